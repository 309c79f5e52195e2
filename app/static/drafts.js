// Drafts and the outbox, one mechanism: while a note is written or edited, its text is kept in
// this browser (localStorage, per account, sign-in and note) and offered back after a crash, a
// closed tab or a lost connection. A save that cannot reach Memo turns the draft into one
// waiting to send (it gains `send`: where to, an idempotency key, the version it was based on);
// waiting ones are sent on load, `online` and `visibilitychange`, each with a CSRF token asked
// for just then, and the server makes at most one note of a key. An edit based on an old
// version lands on the conflict page with both texts, as any edit would. A draft is cleared
// once saved or once a conflict's choice is made, and every draft of the account when it signs
// out (after saying how many still wait, and offering to send them first). A draft belongs to
// the sign-in it was written in (data-session, which the server derives from that session):
// once that session has ended elsewhere (a password change, a reset, "this was not me"), the
// next page of a new sign-in drops it unseen. Words come from the page's data-* attributes, in
// the reader's language; without this script the form posts as usual.
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
      for (const [key, entry] of entries) {
        const body = new FormData();
        body.set("csrf_token", token);
        body.set("title", entry.title);
        body.set("content", entry.content);
        if (entry.send.version) {
          body.set("version", entry.send.version);
        }
        body.set("idempotency_key", entry.send.key);
        let response;
        try {
          response = await fetch(entry.send.action, {method: "POST", body, credentials: "same-origin"});
        } catch {
          return;
        }
        if (savedNote(response)) {
          store.removeItem(key);
        } else if (response.status === 400 || response.status === 409) {
          // Back to a draft of its form, which the answer shows: what to fix, or both texts.
          const form = entry.send.action.match(/^\/notes\/(\d+)\/edit$/);
          delete entry.send;
          store.removeItem(key);
          store.setItem(`${ours}${form ? form[1] : "new"}`, JSON.stringify(entry));
          await replacePage(response);
          return;
        } else {
          return; // too many writes, or Memo in trouble: the next chance tries again
        }
      }
    } finally {
      sending = false;
      showWaiting();
    }
  };

  let leaving = false;
  document.addEventListener("submit", (event) => {
    if (event.target.matches("form[data-clears-draft]")) {
      // A conflict's choice: the text set aside is kept by the server, never offered again.
      store.removeItem(`${ours}${event.target.dataset.clearsDraft}`);
    }
    if (event.target.matches("form.sign-out")) {
      const signOut = event.target;
      const count = waiting().length;
      if (count && !leaving && outbox) {
        event.preventDefault();
        tell(
          `${outbox.dataset.signOut.replace("{count}", count)} `,
          button(outbox.dataset.sendThen, async () => {
            await send();
            if (waiting().length) {
              tell(outbox.dataset.notSent);
            } else {
              leaving = true;
              signOut.requestSubmit();
            }
          }),
          button(outbox.dataset.signOutAnyway, () => {
            leaving = true;
            signOut.requestSubmit();
          }),
        );
        outbox.focus();
        return;
      }
      for (const key of Object.keys(store)) {
        if (key.startsWith(`${PREFIX}${account}:`)) {
          store.removeItem(key);
        }
      }
      document.dispatchEvent(new Event("memo:signing-out"));
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
  const key = `${ours}${form.dataset.draft}`;
  const title = form.elements.title;
  const content = form.elements.content;
  const notice = document.getElementById("draft-notice");

  // Typing on keeps a waiting edit waiting, with its newest text.
  const keep = (send = readKey(key)?.send) => {
    try {
      store.setItem(key, JSON.stringify({title: title.value, content: content.value, at: Date.now(), send}));
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
  const queue = () => {
    const path = new URL(form.action || window.location.href).pathname;
    const idempotency = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    const version = form.elements.version ? form.elements.version.value : "";
    if (!keep({action: path, key: idempotency, version})) {
      return false;
    }
    if (form.dataset.draft === "new") {
      // Each new note waits under its own key: the next one written offline is another. A
      // save pressed again from this page carries the same key: one note either way.
      store.setItem(`${ours}out-${idempotency}`, store.getItem(key));
      store.removeItem(key);
      form.dataset.queued = idempotency;
    }
    return true;
  };

  const draft = readKey(key);
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
        notice.hidden = true;
        content.focus();
      }),
      button(notice.dataset.discard, () => {
        store.removeItem(key);
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
    keep();
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
    const body = new FormData(form);
    const queued = form.dataset.queued || readKey(key)?.send?.key;
    if (queued) {
      body.set("idempotency_key", queued);
    }
    let response;
    try {
      response = await fetch(form.action || window.location.href, {
        method: "POST",
        body,
        credentials: "same-origin",
      });
    } catch {
      ready();
      say(queued || queue() ? outbox.dataset.queued : notice.dataset.offline);
      showWaiting();
      notice.focus();
      return;
    }
    if (savedNote(response)) {
      store.removeItem(key);
      store.removeItem(`${ours}out-${queued}`);
    }
    await replacePage(response);
  });
})();
