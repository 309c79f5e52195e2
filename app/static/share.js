// The phone's share sheet for a new share link, where the browser has one (Web Share API):
// the button stays hidden elsewhere, and the link is in its text box to copy either way.
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.share) return;
  for (const button of document.querySelectorAll("button.share-sheet")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.share({ title: button.dataset.title, url: button.dataset.url }).catch(() => {});
    });
  }
});
