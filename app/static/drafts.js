// Drafts and the outbox, one mechanism: while a note is written or edited, its text is kept in
// this browser (localStorage, per account, sign-in and note) and offered back after a crash, a
// closed tab or a lost connection. Every save waits in the outbox from its first send on: on
// Save, before anything is sent, the draft gains `send` (where to, an idempotency key made
// then, the version it was based on), and it leaves only once an answer says what happened
// (saved, or the form's refusal or a conflict shown). A send whose answer is lost, a tab closed
// mid-send or a page left at once is sent again on the next page with the same key, and Memo
// makes one note, or one edit, of a key (app/features/notes/once.py): a key is never made for
// a text already sent. Waiting ones are sent on load, `online` and `visibilitychange`, each
// with a CSRF token asked for just then. An edit based on an old version lands on the conflict
// page with both texts, as any edit would. A draft is cleared once saved or once a conflict's
// choice is made, and every draft of the account once Memo has signed it out (never before:
// offline, the sign-out says it must wait, and keeps them). A draft belongs to the sign-in it
// was written in (data-session, which the server derives from that session), and the note's
// version it was written on: restored, it is saved on top of that version, so a draft older
// than the note lands on the conflict page, never over the newer text. Once that
// session has ended elsewhere (a password change, a reset, "this was not me"), the next page
// of a new sign-in drops it unseen. Words come from the page's data-* attributes, in the
// reader's language; without this script the form posts as usual.
(() => {
  const PREFIX = "memo-draft:";
  const account = document.body.dataset.account;
  const session = document.body.dataset.session;
  if (!account || !session) {
    return;
  }
  const store = window.localStorage;
  const ours = `${PREFIX}${account}:${session}:`;
  for (const key of Object.keys(store)) {
    if (key.startsWith(`${PREFIX}${account}:`) && !key.startsWith(ours)) {
      store.removeItem(key); // written in a sign-in that has ended
    }
  }
  const outbox = document.getElementById("outbox");

  const readKey = (key) => {
    try {
      return JSON.parse(store.getItem(key));
    } catch {
      return null;
    }
  };
  const waiting = () =>
    Object.keys(store)
      .filter((key) => key.startsWith(ours))
      .map((key) => [key, readKey(key)])
      .filter(([, entry]) => entry && entry.send);
  const button = (label, action) => {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.addEventListener("click", action);
    return element;
  };
  const tell = (text, ...parts) => {
    outbox.replaceChildren(document.createTextNode(text), ...parts);
    outbox.hidden = false;
  };
  const showWaiting = () => {
    const entries = waiting();
    if (!outbox || !entries.length) {
      if (outbox) {
        outbox.hidden = true;
      }
      return;
    }
    const list = document.createElement("ul");
    for (const [, entry] of entries) {
      const item = document.createElement("li");
      item.textContent = entry.title || "…";
      list.append(item);
    }
    const here = entries.some(([, entry]) => entry.send.action === `${window.location.pathname}/edit`);
    const text = outbox.dataset.waiting.replace("{count}", entries.length);
    tell(here ? `${outbox.dataset.waitingHere} ${text}` : text, list);
  };
  // The answer, whatever it is (the saved note, the form with its errors, both texts of a
  // conflict), replaces this page as if the browser had posted the form itself.
  const replacePage = async (response) => {
    const page = await response.text();
    window.history.replaceState(null, "", response.url);
    document.open();
    document.write(page);
    document.close();
  };
  const savedNote = (response) =>
    response.ok && response.redirected && /^\/notes\/\d+$/.test(new URL(response.url).pathname);
  // What an answer says happened to a waiting save: saved (it leaves the outbox), or refused
  // for its text or a conflict (back to a draft of its form, which the answer shows: what to
  // fix, or both texts). Anything else (too many writes, Memo in trouble, a sign-in page) says
  // nothing of it: it waits, with its key. Return whether the answer settled it.
  const settle = (key, entry, response) => {
    if (savedNote(response)) {
      store.removeItem(key);
      return true;
    }
    if (response.status === 400 || response.status === 409) {
      const form = entry.send.action.match(/^\/notes\/(\d+)\/edit$/);
      entry.version = entry.send.version;
      delete entry.send;
      store.removeItem(key);
      store.setItem(`${ours}${form ? form[1] : "new"}`, JSON.stringify(entry));
      return true;
    }
    return false;
  };
  const bodyOf = (entry, token) => {
    const body = new FormData();
    body.set("csrf_token", token);
    body.set("title", entry.title);
    body.set("content", entry.content);
    if (entry.send.version) {
      body.set("version", entry.send.version);
    }
    body.set("idempotency_key", entry.send.key);
    return body;
  };
  const inFlight = new Set(); // keys this page is sending itself: not sent twice at once

  let sending = false;
  const send = async () => {
    const entries = waiting();
    if (sending || !entries.length) {
      return;
    }
    sending = true;
    try {
      let token;
      try {
        const asked = await fetch("/offline/token", {credentials: "same-origin"});
        if (!asked.ok || asked.redirected) {
          return; // signed out meanwhile: nothing is sent for an ended sign-in
        }
        token = (await asked.json()).csrf_token;
      } catch {
        return;
      }
      for (const [key] of entries) {
        const entry = readKey(key); // as it is now: this page's own save may have settled it
        if (!entry?.send || inFlight.has(entry.send.key)) {
          continue;
        }
        let response;
        try {
          response = await fetch(entry.send.action, {
            method: "POST",
            body: bodyOf(entry, token),
            credentials: "same-origin",
          });
        } catch {
          return;
        }
        if (!settle(key, entry, response)) {
          return; // too many writes, or Memo in trouble: the next chance tries again
        }
        if (!savedNote(response)) {
          await replacePage(response);
          return;
        }
      }
    } finally {
      sending = false;
      showWaiting();
    }
  };

  // Signing out: Memo ends the session first, and only then does this browser forget the
  // account's drafts, copies and push subscription. Memo out of reach (offline, or its answer
  // lost), nothing is forgotten and the session stays: the page says so. With texts waiting, it
  // first says how many and offers to send them.
  const forgetAll = () => {
    for (const key of Object.keys(store)) {
      if (key.startsWith(`${PREFIX}${account}:`)) {
        store.removeItem(key);
      }
    }
    document.dispatchEvent(new Event("memo:signing-out"));
  };
  const cannotSignOut = () => {
    tell(outbox.dataset.cannotSignOut);
    outbox.focus();
  };
  const signOut = async (form, asked = false) => {
    let token;
    try {
      const reached = await fetch("/offline/token", {credentials: "same-origin"});
      if (!reached.ok || reached.redirected) {
        throw new Error(String(reached.status));
      }
      token = (await reached.json()).csrf_token; // the page's own may be a kept copy's
    } catch {
      cannotSignOut();
      return;
    }
    const count = waiting().length;
    if (count && !asked) {
      tell(
        `${outbox.dataset.signOut.replace("{count}", count)} `,
        button(outbox.dataset.sendThen, async () => {
          await send();
          if (waiting().length) {
            tell(outbox.dataset.notSent);
          } else {
            signOut(form, true);
          }
        }),
        button(outbox.dataset.signOutAnyway, () => signOut(form, true)),
      );
      outbox.focus();
      return;
    }
    const body = new FormData(form);
    body.set("csrf_token", token);
    let response;
    try {
      // Not followed: the page it leads to is opened as a page of its own, its message with it.
      response = await fetch(form.action, {method: "POST", body, credentials: "same-origin", redirect: "manual"});
    } catch {
      cannotSignOut();
      return;
    }
    if (response.type !== "opaqueredirect") {
      cannotSignOut();
      return;
    }
    forgetAll();
    window.location.assign(form.dataset.then);
  };
  document.addEventListener("submit", (event) => {
    if (event.target.matches("form[data-clears-draft]")) {
      // A conflict's choice: the text set aside is kept by the server, never offered again.
      store.removeItem(`${ours}${event.target.dataset.clearsDraft}`);
    }
    if (event.target.matches("form.sign-out") && outbox) {
      event.preventDefault();
      signOut(event.target);
    }
  });
  window.addEventListener("online", send);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      send();
    }
  });
  showWaiting();
  send();

  const form = document.querySelector("form[data-draft]");
  if (!form) {
    return;
  }
  const drafted = `${ours}${form.dataset.draft}`;
  const title = form.elements.title;
  const content = form.elements.content;
  const notice = document.getElementById("draft-notice");
  // Where this form's text is kept: its draft, or, once a new note's save was sent from this
  // page, that save's outbox entry (typing on keeps it waiting, with its newest text and key).
  const key = () => (form.dataset.queued ? `${ours}out-${form.dataset.queued}` : drafted);
  const version = form.elements.version;

  const keep = (send = readKey(key())?.send) => {
    const kept = {title: title.value, content: content.value, version: version?.value, at: Date.now(), send};
    try {
      store.setItem(key(), JSON.stringify(kept));
      return true;
    } catch {
      if (outbox) {
        tell(outbox.dataset.tooBig); // over this browser's room (a few megabytes)
      }
      return false;
    }
  };
  const say = (text, ...buttons) => {
    notice.replaceChildren(document.createTextNode(text), ...buttons);
    notice.hidden = false;
  };
  // The save about to be sent, in the outbox before its first send: the key of a save already
  // sent from this page (its answer not known yet) again, else a new one. A new note waits
  // under its own key, so that the next one written offline is another.
  const outgoing = () => {
    const base = version ? version.value : "";
    const earlier = readKey(key())?.send;
    const send =
      earlier && earlier.version === base
        ? earlier
        : {
            action: new URL(form.action || window.location.href).pathname,
            key: crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`,
            version: base,
          };
    if (form.dataset.draft === "new" && !form.dataset.queued) {
      store.removeItem(drafted);
      form.dataset.queued = send.key;
    }
    const kept = keep(send);
    return [key(), {title: title.value, content: content.value, send}, kept];
  };

  const draft = readKey(drafted);
  if (draft && !draft.send && (draft.title !== title.value || draft.content !== content.value)) {
    const when = new Date(draft.at).toLocaleString(document.documentElement.lang, {
      dateStyle: "medium",
      timeStyle: "short",
    });
    say(
      `${notice.dataset.found.replace("{when}", when)} `,
      button(notice.dataset.restore, () => {
        title.value = draft.title;
        content.value = draft.content;
        if (version && draft.version) {
          version.value = draft.version; // the note it was written on, not the one loaded now
        }
        notice.hidden = true;
        content.focus();
      }),
      button(notice.dataset.discard, () => {
        store.removeItem(drafted);
        notice.hidden = true;
      }),
    );
  }

  let pending;
  form.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(keep, 300);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(pending);
    // "Saving…" on the button until the answer comes; a second press sends nothing more.
    const button = event.submitter || form.querySelector("button[type=submit]");
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    const label = button?.textContent;
    if (button?.dataset.saving) {
      button.textContent = button.dataset.saving;
      button.setAttribute("aria-disabled", "true");
    }
    const ready = () => {
      delete form.dataset.busy;
      if (button && label !== undefined) button.textContent = label;
      button?.removeAttribute("aria-disabled");
    };
    const [waits, entry, kept] = outgoing();
    const body = new FormData(form);
    body.set("idempotency_key", entry.send.key);
    inFlight.add(entry.send.key);
    let response;
    try {
      response = await fetch(form.action || window.location.href, {
        method: "POST",
        body,
        credentials: "same-origin",
      });
    } catch {
      ready();
      say(kept ? outbox.dataset.queued : notice.dataset.offline);
      showWaiting();
      notice.focus();
      return;
    } finally {
      inFlight.delete(entry.send.key);
    }
    settle(waits, entry, response);
    await replacePage(response);
  });
})();
