// The note form's Markdown buttons: a checklist item, a heading and bold, typed into the text
// for people on a phone, where `- [ ]` is a long way round the keyboard; and a preview, which
// the server renders as the note page would (POST /notes/preview, nothing saved). Without
// JavaScript the buttons stay hidden and the text box is as ever.
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

  const toggle = tools.querySelector(".preview-toggle");
  const pane = document.getElementById("preview-pane");

  async function showPreview(on) {
    if (on) {
      const body = new FormData();
      body.append("csrf_token", text.form.elements.csrf_token.value);
      body.append("content", text.value);
      let response;
      try {
        response = await fetch(tools.dataset.preview, { method: "POST", body });
      } catch {
        return; // offline: the text stays as it is
      }
      if (!response.ok) return;
      pane.innerHTML = await response.text(); // the server's sanitised rendering
    }
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    pane.hidden = !on;
    text.hidden = on;
    (on ? pane : text).focus();
  }

  toggle.addEventListener("click", () => showPreview(toggle.getAttribute("aria-pressed") !== "true"));
  tools.hidden = false;
  for (const button of tools.querySelectorAll("button[data-insert]")) {
    button.addEventListener("click", () => {
      if (text.hidden) showPreview(false); // back to the text, where the Markdown goes
      actions[button.dataset.insert]();
      text.focus();
      text.dispatchEvent(new Event("input", { bubbles: true })); // the draft keeps it
    });
  }
});
