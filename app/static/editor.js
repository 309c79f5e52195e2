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

// Tag suggestions: as one types `#` and the start of a tag, the account's tags that begin so
// are offered as buttons under the text (the most used first); pressing one completes the
// tag. The tags are fetched once, the first time a `#` is typed (GET /tags/names, which
// writes nothing). Without JavaScript the text box is as ever.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector(".tag-suggestions");
  const text = box && document.getElementById(box.dataset.for);
  if (!text) return;
  const buttons = box.querySelector(".tag-buttons");
  const status = box.querySelector("[role=status]");
  const SHOWN = 8;
  // A `#` not glued to a word, a slash or another `#` (app/tags.py), then the tag so far.
  const TYPED = /(?:^|[^\p{L}\p{N}_/#&-])#([\p{L}\p{N}_-]*)$/u;
  let tags = null;
  let asked = false;

  function typed() {
    if (text.selectionStart !== text.selectionEnd) return null;
    const match = TYPED.exec(text.value.slice(0, text.selectionStart));
    return match ? match[1] : null;
  }

  async function load() {
    asked = true;
    try {
      const response = await fetch(box.dataset.source, { headers: { Accept: "application/json" } });
      if (response.ok) tags = (await response.json()).tags;
    } catch {
      return; // offline: no suggestions
    }
    offer();
  }

  function complete(tag) {
    const start = typed();
    if (start === null) return;
    const caret = text.selectionStart;
    text.setRangeText(`${tag} `, caret - start.length, caret, "end");
    box.hidden = true;
    text.focus();
    text.dispatchEvent(new Event("input", { bubbles: true })); // the draft keeps it
  }

  function offer() {
    const start = typed();
    if (start === null || tags === null) {
      box.hidden = true;
      if (start !== null && !asked) load();
      return;
    }
    const folded = start.normalize("NFKC").toLowerCase();
    const fit = tags.filter((tag) => tag.startsWith(folded) && tag !== folded).slice(0, SHOWN);
    buttons.replaceChildren(
      ...fit.map((tag) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = `#${tag}`;
        button.addEventListener("click", () => complete(tag));
        return button;
      }),
    );
    box.hidden = fit.length === 0;
    status.textContent = fit.length ? status.dataset.count.replace("{count}", fit.length) : "";
  }

  text.addEventListener("input", offer);
  text.addEventListener("click", offer);
  text.addEventListener("keyup", (event) => event.key.startsWith("Arrow") && offer());
  text.addEventListener("keydown", (event) => {
    if (event.key === "Escape") box.hidden = true;
  });
});
