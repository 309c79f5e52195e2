// A share from another app (templates/notes/shared.html). What was shared waits in this
// browser, in the "memo-shared" cache the service worker filled (templates/offline/sw.js).
// This script shows it, saves the note (one POST with the page's CSRF token: every file is
// checked by its name, size and first bytes before anything is written), then sends each
// file straight to the store by its signed upload and confirms it, as a note's upload form
// does (upload.js). A file that does not arrive waits here: send it again, or leave it out
// (a note left with nothing in it is then deleted, data-discard). A share belongs to the
// sign-in that first opens it: another sign-in's page drops it unseen. Words come from the
// form's data-* attributes, in the reader's language.
(() => {
  const form = document.getElementById("share-form");
  const missing = document.getElementById("share-missing");
  if (!form) {
    return;
  }
  const words = form.dataset;
  const base = words.save; // where the worker kept it: <base>/about and <base>/file/<n>
  const session = document.body.dataset.session;
  const status = document.getElementById("share-status");
  const list = form.querySelector(".shared-files ul");
  const saveButton = form.querySelector("button[type=submit]");
  const SNIFF_BYTES = 262; // what Memo reads of a file's start to check its type
  let cache;
  let about;
  let busy = false;

  const json = (body) => new Response(JSON.stringify(body), {headers: {"Content-Type": "application/json"}});
  const keep = () => cache.put(`${base}/about`, json(about));
  const forget = async () => {
    for (const request of await cache.keys()) {
      if (new URL(request.url).pathname.startsWith(`${base}/`)) {
        await cache.delete(request);
      }
    }
  };
  const fileOf = async (n) => {
    const kept = await cache.match(`${base}/file/${n}`);
    return kept ? kept.blob() : null;
  };

  const size = (bytes) => {
    for (const [unit, scale] of [["GB", 2 ** 30], ["MB", 2 ** 20], ["KB", 2 ** 10]]) {
      if (bytes >= scale) {
        const format = new Intl.NumberFormat(document.documentElement.lang, {maximumFractionDigits: 1});
        return words.size.replace("{number}", format.format(bytes / scale)).replace("{unit}", unit);
      }
    }
    return words.bytes.replace("{count}", String(bytes));
  };
  const LEFT = {
    large: words.leftLarge,
    many: words.leftMany,
    empty: words.leftEmpty,
    room: words.leftRoom,
    waiting: words.leftWaiting,
  };
  const row = (file, state) => {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = file.name;
    const detail = document.createElement("span");
    detail.className = "muted";
    detail.textContent = ` · ${size(file.size)}${state ? ` · ${state}` : ""}`;
    item.append(name, detail);
    return item;
  };
  const render = () => {
    const rows = about.files.map((file) => row(file, file.done ? words.attached : file.state));
    rows.push(...about.left.map((file) => row(file, LEFT[file.reason])));
    list.replaceChildren(...rows);
    list.closest("section").hidden = rows.length === 0;
  };
  const say = (text, error, ...buttons) => {
    status.replaceChildren(document.createTextNode(text), ...buttons);
    status.classList.toggle("flash-error", Boolean(error));
    status.classList.toggle("flash-info", !error);
    status.setAttribute("role", error ? "alert" : "status");
    status.hidden = false;
  };
  const button = (label, action) => {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.addEventListener("click", action);
    return element;
  };

  const head = async (blob) => {
    const bytes = new Uint8Array(await blob.slice(0, SNIFF_BYTES).arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  };
  const post = async (url, body) => {
    const response = await fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: {Accept: "application/json"},
    });
    return {ok: response.ok, answer: await response.json().catch(() => ({}))};
  };
  const token = () => form.elements.csrf_token.value;

  // The note, with every file announced: Memo refuses them all, or writes the note and signs
  // one upload each (in the files' order).
  const saveNote = async () => {
    const body = new FormData(form);
    for (const [n, file] of about.files.entries()) {
      const blob = await fileOf(n);
      body.append("file_name", file.name);
      body.append("file_size", String(blob ? blob.size : file.size));
      body.append("file_head", blob ? await head(blob) : "");
    }
    return post(words.save, body);
  };
  // One more upload of a note that exists (a file sent again): the note page's own start.
  const startOne = async (file) => {
    const body = new FormData();
    body.append("csrf_token", token());
    body.append("name", file.name);
    body.append("size", String(file.size));
    const {ok, answer} = await post(`${about.note}/attachments/upload`, body);
    if (!ok) {
      throw new Error(answer.error || words.storeUnreachable);
    }
    return answer;
  };
  const send = async (n, signed) => {
    const file = about.files[n];
    file.state = words.sending;
    render();
    try {
      const blob = await fileOf(n);
      if (!blob) {
        throw new Error(words.gone);
      }
      const start = signed || (await startOne(file));
      const upload = new FormData();
      for (const [name, value] of Object.entries(start.fields)) {
        upload.append(name, value);
      }
      upload.append("file", blob, file.name); // the store reads every field before the file
      let stored;
      try {
        stored = await fetch(start.url, {method: "POST", body: upload});
      } catch {
        throw new Error(words.storeUnreachable);
      }
      if (!stored.ok) {
        throw new Error(words.storeRefused.replace("%s", String(stored.status)));
      }
      const confirmed = await fetch(start.confirm, {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (!confirmed.ok) {
        throw new Error((await confirmed.json().catch(() => ({}))).error || words.storeUnreachable);
      }
      file.done = true;
      delete file.state;
      await cache.delete(`${base}/file/${n}`);
    } catch (error) {
      file.state = error.message || words.storeUnreachable;
    }
    await keep();
    render();
  };

  const leaveOut = async () => {
    if (!about.note) {
      await forget();
      window.location.assign("/");
      return;
    }
    const body = new FormData();
    body.append("csrf_token", token());
    let answer;
    try {
      ({answer} = await post(words.discard, body));
    } catch {
      say(words.unreachable, true);
      return;
    }
    await forget();
    window.location.assign(answer.next || about.note);
  };
  const settle = () => {
    const failed = about.files.filter((file) => !file.done).length;
    if (!failed) {
      forget().then(() => window.location.assign(`${about.note}${about.files.length ? "#attachments" : ""}`));
      return;
    }
    say(
      `${words.someFailed.replace("{count}", String(failed))} `,
      true,
      button(words.sendAgain, () => form.requestSubmit()),
      button(words.leaveOut, leaveOut),
    );
    status.focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    const label = saveButton.textContent;
    saveButton.textContent = saveButton.dataset.saving;
    saveButton.setAttribute("aria-disabled", "true");
    try {
      let signed = [];
      const signedAt = Date.now();
      if (!about.note) {
        let saved;
        try {
          saved = await saveNote();
        } catch {
          say(words.unreachable, true);
          return;
        }
        if (!saved.ok) {
          say(saved.answer.error || words.unreachable, true); // nothing was written
          return;
        }
        about.note = saved.answer.note;
        signed = saved.answer.uploads;
        await keep();
      }
      for (const [n, file] of about.files.entries()) {
        // An upload must start within its policy's minutes: on a slow link, the later files
        // of a large share ask for a fresh one rather than meet "Policy expired".
        const fresh = Date.now() - signedAt < (Number(words.uploadMinutes) - 2) * 60_000;
        if (!file.done) {
          await send(n, fresh ? signed[n] : undefined);
        }
      }
      settle();
    } finally {
      busy = false;
      saveButton.textContent = label;
      saveButton.removeAttribute("aria-disabled");
    }
  });
  form.querySelector("button[data-discard]").addEventListener("click", leaveOut);

  const open = async () => {
    cache = await caches.open("memo-shared");
    const kept = await cache.match(`${base}/about`);
    about = kept ? await kept.json() : null;
    if (about && about.session && about.session !== session) {
      await forget(); // opened by another sign-in first: never shown to this one
      about = null;
    }
    if (!about) {
      missing.hidden = false;
      return;
    }
    if (!about.session) {
      about.session = session;
      await keep();
    }
    const title = form.elements.title;
    const limit = title.maxLength > 0 ? title.maxLength : 200;
    const firstLine = about.text.trim().split("\n")[0];
    title.value = title.value || (about.title || about.files[0]?.name || firstLine).slice(0, limit);
    form.elements.content.value = form.elements.content.value || about.text;
    render();
    form.hidden = false;
    if (about.note) {
      settle(); // back to a share whose note is saved: its files that did not arrive
    }
  };
  if (window.caches) {
    open().catch(() => {
      missing.hidden = false;
    });
  } else {
    missing.hidden = false;
  }
})();
