// A file larger than its form takes is refused here, before the upload starts: the page says so
// beside the field instead of sending megabytes to get the front's 413. The form names its limit
// (data-max-bytes) and the sentence in the reader's language (data-too-large); without this
// script the server answers the same limit with its own page.
(() => {
  for (const form of document.querySelectorAll("form[data-max-bytes]")) {
    const limit = Number(form.dataset.maxBytes);
    const input = form.querySelector("input[type=file]");
    if (!input) {
      continue;
    }
    const error = document.createElement("p");
    error.className = "error";
    error.id = `${input.id}-too-large`;
    error.setAttribute("role", "alert");
    error.hidden = true;
    input.after(error);
    const tooLarge = () => [...input.files].some((file) => file.size > limit);
    const check = () => {
      const refused = tooLarge();
      error.hidden = !refused;
      error.textContent = refused ? form.dataset.tooLarge : "";
      if (refused) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", error.id);
      } else {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      }
      return refused;
    };
    input.addEventListener("change", check);
    form.addEventListener("submit", (event) => {
      if (check()) {
        event.preventDefault();
        input.focus();
      }
    });
  }
})();
