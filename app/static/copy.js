// A "copy" button (data-copy: the id of the text box that holds what to copy) shown where the
// Clipboard API works; without it, the text box's text can be selected and copied by hand.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    if (!field || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(field.value).then(
        () => { button.textContent = button.dataset.copied; },
        () => { field.select(); },
      );
    });
  }
});
