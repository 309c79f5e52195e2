// Memo in the pocket: registers the service worker (/sw.js, app/offline/), and on a page the
// worker served from its kept copies (data-kept-at filled), shows "offline: shown as it was on
// <time>" in the reader's language and time zone. At sign-out it asks the worker to drop its
// copies itself, since Chrome ignores Clear-Site-Data's "cache", and ends this browser's push
// subscription. On a signed-in page it says when shares from other apps wait in this browser,
// not saved yet (offline when shared, or a file that did not arrive), with a link to the first;
// a share another sign-in opened first is dropped unseen (static/share-target.js). A signed-in
// page that the back-forward cache restores (from memory, without asking Memo) is asked for
// again: after a sign-out, Back shows the sign-in page, not the notes; it is hidden as it is
// left, so it is never seen meanwhile. The cookie tells Memo this browser does so: only then
// are the list and a note sent for the browser to keep and ask about (a 304), not no-store
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
  const waiting = document.getElementById("shares-waiting");
  const showShares = async () => {
    if (!waiting || !window.caches || !(await caches.has("memo-shared"))) {
      return;
    }
    const cache = await caches.open("memo-shared");
    const shares = [];
    for (const request of await cache.keys()) {
      const path = new URL(request.url).pathname;
      if (!path.endsWith("/about")) {
        continue;
      }
      const about = await (await cache.match(request)).json();
      const share = path.slice(0, -"/about".length);
      if (about.session && about.session !== document.body.dataset.session) {
        for (const kept of await cache.keys()) {
          if (new URL(kept.url).pathname.startsWith(`${share}/`)) {
            await cache.delete(kept);
          }
        }
      } else if (share !== window.location.pathname) {
        shares.push([about.at, share]);
      }
    }
    if (shares.length) {
      shares.sort((a, b) => a[0] - b[0]);
      const link = document.createElement("a");
      link.href = shares[0][1];
      link.textContent = waiting.dataset.open;
      const words = waiting.dataset.words.replace("{count}", String(shares.length));
      waiting.replaceChildren(document.createTextNode(`${words} `), link);
      waiting.hidden = false;
    }
  };
  showShares().catch(() => {});
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
