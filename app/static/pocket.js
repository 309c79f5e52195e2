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
  // A time written as Memo's pages write it: the page's pattern (app/i18n/formats.py:
  // "y년 M월 d일 aaaa h:mm", "MMM d, y, h:mm a") filled with the browser's parts of it.
  const written = (moment, pattern, zone) => {
    const month = pattern.includes("MMM") ? "short" : "numeric";
    const options = {year: "numeric", month, day: "numeric", hour: "numeric", minute: "2-digit", hour12: true};
    let parts;
    try {
      parts = new Intl.DateTimeFormat(document.documentElement.lang, {...options, timeZone: zone || undefined}).formatToParts(moment);
    } catch {
      parts = new Intl.DateTimeFormat(document.documentElement.lang, options).formatToParts(moment); // a zone this browser does not know: its own
    }
    const part = Object.fromEntries(parts.map(({type, value}) => [type, value]));
    const fields = {MMM: part.month, M: part.month, y: part.year, d: part.day, aaaa: part.dayPeriod, a: part.dayPeriod, h: part.hour, mm: part.minute};
    return pattern.replace(/MMM|M|y|d|aaaa|a|h|mm/g, (token) => fields[token]);
  };
  if (banner && banner.dataset.keptAt) {
    const when = written(new Date(banner.dataset.keptAt), banner.dataset.pattern, banner.dataset.zone);
    banner.textContent = banner.dataset.words.replace("{when}", when);
    banner.hidden = false;
    // "Today" was the day it was kept: a kept copy shows the full dates (the titles).
    for (const time of document.querySelectorAll("time[title]")) {
      time.textContent = time.title;
    }
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
