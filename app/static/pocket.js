// Memo in the pocket: registers the service worker (/sw.js, app/offline/), and on a page the
// worker served from its kept copies (data-kept-at filled), shows "offline: shown as it was on
// <time>" in the reader's language and time zone. At sign-out it asks the worker to drop its
// copies itself, since Chrome ignores Clear-Site-Data's "cache", and ends this browser's push
// subscription.
(() => {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
  }
  const banner = document.getElementById("offline-banner");
  if (banner && banner.dataset.keptAt) {
    const options = {dateStyle: "medium", timeStyle: "short"};
    if (banner.dataset.zone) {
      options.timeZone = banner.dataset.zone;
    }
    let when;
    try {
      when = new Date(banner.dataset.keptAt).toLocaleString(document.documentElement.lang, options);
    } catch {
      delete options.timeZone; // a zone this browser does not know: its own
      when = new Date(banner.dataset.keptAt).toLocaleString(document.documentElement.lang, options);
    }
    banner.textContent = banner.dataset.words.replace("{when}", when);
    banner.hidden = false;
  }
  document.addEventListener("memo:signing-out", () => {
    navigator.serviceWorker?.controller?.postMessage("forget");
    // This browser's push subscription ends with the session (Memo deletes its row); the
    // browser lets go of it too, so a push service answers 410 to anyone who tries it.
    navigator.serviceWorker?.ready
      .then((registration) => registration.pushManager?.getSubscription())
      .then((made) => made && made.unsubscribe())
      .catch(() => {});
  });
})();
