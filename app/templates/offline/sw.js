// Memo's service worker, release {{ release }} (app/offline/). Hand-written, no build step.
// - Memo's own files: from the cache first (one cache per release).
// - Pages: from the network first; after {{ network_wait_ms }} ms without an answer, or with
//   none, the copy kept of that page, marked with the time it was kept; else the offline page.
// - A copy is kept only of a page the server marks (Memo-Offline-Keep), in the cache of the
//   sign-in the page names (Memo-Offline-Account). A page of another sign-in, or of nobody
//   (the sign-in page after a sign-out), makes the worker drop every copy first: one browser
//   shared by two people never shows the second the first one's notes, online or off.
// - The share sheet's POST ({{ share_action }}, the manifest's share_target) never reaches
//   Memo: a text that fits a link opens the new-note form filled in; files (at most
//   {{ share_files }}, each at most {{ share_file_bytes }} bytes) and longer texts wait in the
//   "memo-shared" cache for the share's page, which saves the note and sends each file
//   straight to the store. The sign-out drops them with every copy.
// - A form of Memo's posted by a page (pin, delete, a reminder, ...) goes to the network as it
//   is; with no network, Memo's page saying it changed nothing and needs Memo, never the
//   browser's error page. Nothing else is touched: the API, uploads and other sites go straight
//   to the network.
// - A reminder pushed by Memo's worker (app/features/reminders/pushing.py) is shown as a notification
//   (its title, body and language from the payload); a click opens or focuses its note.
const RELEASE = {{ release|tojson }};
const FILES = `memo-static-${RELEASE}`;
const PAGES = "memo-pages-";
const PRECACHE = {{ precache|tojson }};
const OFFLINE_PAGES = {{ offline_pages|tojson }};
const UNAVAILABLE_PAGES = {{ unavailable_pages|tojson }};
const KEPT_PAGES = {{ kept_pages }};
const KEPT_PAGE_BYTES = {{ kept_page_bytes }};
const NETWORK_WAIT_MS = {{ network_wait_ms }};
const LANGUAGE_KEY = "/offline/language";
const NOBODY = "-";
const SHARED = "memo-shared";
const SHARE_ACTION = {{ share_action|tojson }};
const SHARE_FIELD = {{ share_field|tojson }};
const SHARE_FILES = {{ share_files }};
const SHARE_FILE_BYTES = {{ share_file_bytes }};
const SHARE_LINK_BYTES = {{ share_link_bytes }};
const NEW_NOTE = {{ new_note|tojson }};
// What waits in this browser at most (a page of any site can POST to the share target, as a
// link can open the form): {{ shares_kept }} shares, their files {{ shared_bytes }} bytes in all
// (one full share), each text cut to what a note holds.
const SHARES_KEPT = {{ shares_kept }};
const SHARED_BYTES = {{ shared_bytes }};
const TITLE_LENGTH = {{ title_length }};
const CONTENT_LENGTH = {{ content_length }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(FILES)
      .then((cache) => cache.addAll([...PRECACHE, ...Object.values(OFFLINE_PAGES), ...Object.values(UNAVAILABLE_PAGES)]))
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
    event.waitUntil(forgetPagesBut(NOBODY).then(() => caches.delete(SHARED)));
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
  if (request.method === "POST" && url.origin === self.location.origin && url.pathname === SHARE_ACTION) {
    event.respondWith(takeShare(request));
    return;
  }
  if (request.method === "POST" && request.mode === "navigate" && url.origin === self.location.origin) {
    event.respondWith(fetch(request).catch(() => unavailablePage(request)));
    return;
  }
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
    await keepSharedText(new URL(request.url));
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

async function offlinePage(pages = OFFLINE_PAGES) {
  const files = await caches.open(FILES);
  const said = await files.match(LANGUAGE_KEY);
  const language = said ? await said.text() : (self.navigator.language || "en").slice(0, 2);
  const path = pages[language] || pages.en;
  const kept = await files.match(path);
  return kept || new Response("Offline", {status: 503, headers: {"Content-Type": "text/plain"}});
}

// A form pressed offline: Memo's page saying nothing changed, its link back to the page the
// form was on (this site's only).
async function unavailablePage(request) {
  const page = await offlinePage(UNAVAILABLE_PAGES);
  let back = null;
  try {
    const from = new URL(request.referrer);
    back = from.origin === self.location.origin ? from.pathname + from.search : null;
  } catch {
    // no referrer: the link leads to the list
  }
  if (!back || !page.ok) {
    return page;
  }
  const text = (await page.text()).replace(/data-back href="[^"]*"/, `data-back href="${back.replace(/"/g, "%22")}"`);
  return new Response(text, {headers: {"Content-Type": page.headers.get("Content-Type")}});
}

// What another app shared: a text that fits a link opens the new-note form with it, as a
// shared link always did; anything else waits in this browser for the share's page. Files
// past the limits are not kept: the page names them and says why.
async function takeShare(request) {
  let form;
  try {
    form = await request.formData();
  } catch {
    return Response.redirect(NEW_NOTE, 303);
  }
  const field = (name) => (typeof form.get(name) === "string" ? form.get(name).trim() : "");
  const title = field("title");
  const url = field("url");
  const text = withLink(field("text"), url);
  const files = form.getAll(SHARE_FIELD).filter((file) => file instanceof File && file.name);
  const link = `${NEW_NOTE}?${new URLSearchParams({title, text})}`;
  if (!files.length && link.length <= SHARE_LINK_BYTES) {
    return Response.redirect(link, 303);
  }
  return Response.redirect(await keepShare(title, text, files), 303);
}

// A note's text from a share: the text, then the link unless the text holds it
// (app/offline/sharing.py's shared_content).
function withLink(text, link) {
  return link && !text.includes(link) ? [text, link].filter(Boolean).join("\n\n") : text;
}

// A shared text sent to the new-note form with no network to fill it in: it waits in this
// browser like any share, and every page leads back to it once Memo can be reached.
async function keepSharedText(url) {
  const [title, text, link] = ["title", "text", "url"].map((name) => url.searchParams.get(name) || "");
  if (url.pathname === NEW_NOTE && (title || text || link)) {
    await keepShare(title, withLink(text, link), []);
  }
}

// The shares waiting in this browser: [when, page, bytes of files not yet sent], oldest first.
async function waitingShares(cache) {
  const shares = [];
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/about")) {
      const about = await (await cache.match(request)).json();
      const bytes = about.files.filter((file) => !file.done).reduce((sum, file) => sum + file.size, 0);
      shares.push([about.at, path.slice(0, -"/about".length), bytes]);
    }
  }
  return shares.sort((a, b) => a[0] - b[0]);
}

// Keep a share for its page; return the page's address (with as many waiting as are kept,
// the oldest one's instead: it is saved or left out first).
async function keepShare(title, text, files) {
  const id = self.crypto.randomUUID();
  const cache = await caches.open(SHARED);
  const waiting = await waitingShares(cache);
  if (waiting.length >= SHARES_KEPT) {
    return waiting[0][1];
  }
  let room = SHARED_BYTES - waiting.reduce((sum, share) => sum + share[2], 0);
  const kept = [];
  const left = [];
  for (const file of files) {
    const about = {name: file.name, type: file.type, size: file.size};
    if (kept.length >= SHARE_FILES) {
      left.push({...about, reason: "many"});
    } else if (file.size > SHARE_FILE_BYTES) {
      left.push({...about, reason: "large"});
    } else if (file.size === 0) {
      left.push({...about, reason: "empty"});
    } else if (file.size > room) {
      left.push({...about, reason: "waiting"}); // other shares still wait with their files
    } else {
      room -= file.size;
      try {
        const headers = {"Content-Type": file.type || "application/octet-stream"};
        await cache.put(`${SHARE_ACTION}/${id}/file/${kept.length}`, new Response(file, {headers}));
        kept.push(about);
      } catch {
        left.push({...about, reason: "room"}); // over this browser's room for the site
      }
    }
  }
  const shared = {title: title.slice(0, TITLE_LENGTH), text: text.slice(0, CONTENT_LENGTH)};
  const about = JSON.stringify({...shared, files: kept, left, at: Date.now()});
  await cache.put(`${SHARE_ACTION}/${id}/about`, new Response(about, {headers: {"Content-Type": "application/json"}}));
  return `${SHARE_ACTION}/${id}`;
}
