// Memo's service worker, release {{ release }} (app/offline/). Hand-written, no build step.
// - Memo's own files: from the cache first (one cache per release).
// - Pages: from the network first; after {{ network_wait_ms }} ms without an answer, or with
//   none, the copy kept of that page, marked with the time it was kept; else the offline page.
// - A copy is kept only of a page the server marks (Memo-Offline-Keep), in the cache of the
//   sign-in the page names (Memo-Offline-Account). A page of another sign-in, or of nobody
//   (the sign-in page after a sign-out), makes the worker drop every copy first: one browser
//   shared by two people never shows the second the first one's notes, online or off.
// - Nothing else is touched: forms, the API, uploads and other sites go straight to the network.
// - A reminder pushed by Memo's worker (app/reminders/pushing.py) is shown as a notification
//   (its title, body and language from the payload); a click opens or focuses its note.
const RELEASE = {{ release|tojson }};
const FILES = `memo-static-${RELEASE}`;
const PAGES = "memo-pages-";
const PRECACHE = {{ precache|tojson }};
const OFFLINE_PAGES = {{ offline_pages|tojson }};
const KEPT_PAGES = {{ kept_pages }};
const KEPT_PAGE_BYTES = {{ kept_page_bytes }};
const NETWORK_WAIT_MS = {{ network_wait_ms }};
const LANGUAGE_KEY = "/offline/language";
const NOBODY = "-";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(FILES)
      .then((cache) => cache.addAll([...PRECACHE, ...Object.values(OFFLINE_PAGES)]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        // An older release's files go; the kept pages stay (their account's, until it changes).
        if (name.startsWith("memo-static-") && name !== FILES) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

// A page asks for this as its sign-out is sent: Chrome ignores Clear-Site-Data's "cache".
self.addEventListener("message", (event) => {
  if (event.data === "forget" && event.source && new URL(event.source.url).origin === self.location.origin) {
    event.waitUntil(forgetPagesBut(NOBODY));
  }
});

self.addEventListener("push", (event) => {
  let reminder = {};
  try {
    reminder = event.data ? event.data.json() : {};
  } catch {
    // not one of Memo's: shown with the generic words below
  }
  const title = reminder.title || "Memo";
  const options = {
    body: reminder.body || "",
    lang: reminder.lang || "",
    tag: reminder.tag || "memo-reminder",
    icon: "/static/icon-192.png",
    data: {url: sameSite(reminder.url)},
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = sameSite(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      for (const client of await self.clients.matchAll({type: "window", includeUncontrolled: true})) {
        if (client.url.split("#")[0] === url && "focus" in client) {
          return client.focus();
        }
      }
      return self.clients.openWindow(url);
    })(),
  );
});

// Only Memo's own pages are opened from a notification, whatever a payload says.
function sameSite(address) {
  try {
    const url = new URL(address, self.location.origin);
    return url.origin === self.location.origin ? url.href : self.location.origin + "/";
  } catch {
    return self.location.origin + "/";
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(ownFile(request));
  } else if (request.mode === "navigate") {
    const network = fetch(request);
    event.waitUntil(network.then((response) => remember(request, response.clone())).catch(() => {}));
    event.respondWith(page(request, network));
  }
});

async function ownFile(request) {
  const kept = await caches.match(request, {cacheName: FILES, ignoreSearch: true});
  if (kept) {
    return kept;
  }
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(FILES).then((cache) => cache.put(request, copy));
  }
  return response;
}

async function page(request, network) {
  const late = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS, null));
  try {
    const answer = await Promise.race([network, late]);
    if (answer) {
      return answer;
    }
  } catch {
    // no network: a kept copy, else the offline page
  }
  const kept = await keptCopy(request);
  if (kept) {
    return kept;
  }
  try {
    return await network;
  } catch {
    return offlinePage();
  }
}

async function pageCaches() {
  return (await caches.keys()).filter((name) => name.startsWith(PAGES));
}

async function forgetPagesBut(account) {
  for (const name of await pageCaches()) {
    if (name !== PAGES + account) {
      await caches.delete(name);
    }
  }
}

async function remember(request, response) {
  const account = response.headers.get("Memo-Offline-Account");
  if (account === null) {
    return; // a redirect, or not one of Memo's pages: it says nothing of whose it is
  }
  await forgetPagesBut(account);
  const language = response.headers.get("Content-Language");
  if (language) {
    const files = await caches.open(FILES);
    await files.put(LANGUAGE_KEY, new Response(language));
  }
  if (account === NOBODY) {
    return;
  }
  const cache = await caches.open(PAGES + account);
  const key = request.url.split("#")[0];
  await cache.delete(key); // kept again below, last: the cache's order is the order read
  if (response.status !== 200 || response.headers.get("Memo-Offline-Keep") !== "1") {
    return; // not marked (or gone: a note deleted since is not shown offline either)
  }
  const body = await response.arrayBuffer();
  if (body.byteLength > KEPT_PAGE_BYTES) {
    return;
  }
  const headers = {
    "Content-Type": response.headers.get("Content-Type") || "text/html; charset=utf-8",
    "Memo-Kept-At": new Date().toISOString(),
  };
  await cache.put(key, new Response(body, {headers}));
  const keys = await cache.keys();
  for (const old of keys.slice(0, Math.max(0, keys.length - KEPT_PAGES))) {
    await cache.delete(old);
  }
}

async function keptCopy(request) {
  const names = await pageCaches();
  if (names.length !== 1) {
    return null; // none, or a sign-in change not yet tidied: show nobody's
  }
  const cache = await caches.open(names[0]);
  const kept = await cache.match(request.url.split("#")[0]);
  if (!kept) {
    return null;
  }
  const when = kept.headers.get("Memo-Kept-At");
  const text = (await kept.text()).replace('data-kept-at=""', `data-kept-at="${when}"`);
  return new Response(text, {headers: {"Content-Type": kept.headers.get("Content-Type")}});
}

async function offlinePage() {
  const files = await caches.open(FILES);
  const said = await files.match(LANGUAGE_KEY);
  const language = said ? await said.text() : (self.navigator.language || "en").slice(0, 2);
  const path = OFFLINE_PAGES[language] || OFFLINE_PAGES.en;
  const kept = await files.match(path);
  return kept || new Response("Offline", {status: 503, headers: {"Content-Type": "text/plain"}});
}
