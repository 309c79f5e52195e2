// A "copy" button shown where the Clipboard API works: it copies its data-copy-text, or the
// value of the text box its data-copy names; without it, the text can be selected and copied
// by hand. A "print" button prints the page (a script: the CSP runs no inline handler).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy")) {
    const field = button.dataset.copy && document.getElementById(button.dataset.copy);
    const text = button.dataset.copyText ?? field?.value;
    if (text === undefined || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(text).then(
        () => { button.textContent = button.dataset.copied; },
        () => { field?.select(); },
      );
    });
  }
  for (const button of document.querySelectorAll("button.print")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
