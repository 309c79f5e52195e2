// Memo in the pocket: registers the service worker (/sw.js, app/offline/), and on a page the
// worker served from its kept copies (data-kept-at filled), shows "offline: shown as it was on
// <time>" in the reader's language and time zone. At sign-out it asks the worker to drop its
// copies itself, since Chrome ignores Clear-Site-Data's "cache". A signed-in page that the
// back-forward cache restores (from memory, without asking Memo) is asked for again: after a
// sign-out, Back shows the sign-in page, not the notes; it is hidden as it is left, so it is
// never seen meanwhile. The cookie tells Memo this browser does so: only then are the list
// and a note sent for the browser to keep and ask about (a 304), not no-store
// (app/revalidation.py).
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
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `memo-scripts=1; path=/; SameSite=Lax${secure}`;
  if (document.body.dataset.account) {
    window.addEventListener("pagehide", (event) => {
      if (event.persisted) {
        document.documentElement.style.visibility = "hidden";
      }
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) {
        window.location.reload();
      }
    });
  }
  document.addEventListener("memo:signing-out", () => {
    navigator.serviceWorker?.controller?.postMessage("forget");
  });
})();
