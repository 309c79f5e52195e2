// The note form's Markdown buttons: a checklist item, a heading and bold, typed into the text
// for people on a phone, where `- [ ]` is a long way round the keyboard. Without JavaScript
// the buttons stay hidden and the text box is as ever.
document.addEventListener("DOMContentLoaded", () => {
  const tools = document.querySelector(".editor-tools");
  const text = tools && document.getElementById(tools.dataset.for);
  if (!text) return;

  function lineStart() {
    return text.value.lastIndexOf("\n", text.selectionStart - 1) + 1;
  }

  function prefixLine(prefix) {
    const start = lineStart();
    const caret = text.selectionStart + prefix.length;
    text.setRangeText(prefix, start, start, "preserve");
    text.setSelectionRange(caret, caret);
  }

  const actions = {
    checklist: () => prefixLine("- [ ] "),
    heading: () => prefixLine("## "),
    bold: () => {
      const { selectionStart: from, selectionEnd: to } = text;
      text.setRangeText(`**${text.value.slice(from, to)}**`, from, to, "end");
      if (from === to) text.setSelectionRange(from + 2, from + 2);
    },
  };

  tools.hidden = false;
  for (const button of tools.querySelectorAll("button[data-insert]")) {
    button.addEventListener("click", () => {
      actions[button.dataset.insert]();
      text.focus();
      text.dispatchEvent(new Event("input", { bubbles: true })); // the draft keeps it
    });
  }
});
