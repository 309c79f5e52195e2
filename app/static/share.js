// A new share link's buttons: copy it (Clipboard API), and the phone's share sheet where the
// browser has one (Web Share API). Each stays hidden where it cannot work; the link is in
// its text box to copy either way.
document.addEventListener("DOMContentLoaded", () => {
  const copy = document.querySelector("button.copy-link");
  const field = document.getElementById("share-link");
  if (copy && field && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", () => {
      navigator.clipboard.writeText(field.value).then(
        () => { copy.textContent = copy.dataset.copied; },
        () => { field.select(); },
      );
    });
  }
  if (!navigator.share) return;
  for (const button of document.querySelectorAll("button.share-sheet")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.share({ title: button.dataset.title, url: button.dataset.url }).catch(() => {});
    });
  }
});
