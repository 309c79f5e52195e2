// Drafts that survive: while a note is written or edited, its text is kept in this browser
// (localStorage, per account, sign-in and note) and offered back after a crash, a closed tab
// or a lost connection. It is cleared once the note is saved or a conflict's choice is made,
// and every draft of the account when it signs out. A draft belongs to the sign-in it was written in (data-session, which
// the server derives from that session): once that session has ended elsewhere (a password
// change, a reset, "this was not me"), the next page of a new sign-in drops it unseen. A save
// is sent by fetch, so a dropped connection leaves the text on the page with a message
// instead of the browser's error page. Words come from the page's data-* attributes, in the
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

  document.addEventListener("submit", (event) => {
    if (event.target.matches("form[data-clears-draft]")) {
      // A conflict's choice: the text set aside is kept by the server, never offered again.
      store.removeItem(`${ours}${event.target.dataset.clearsDraft}`);
    }
    if (event.target.matches("form.sign-out")) {
      for (const key of Object.keys(store)) {
        if (key.startsWith(`${PREFIX}${account}:`)) {
          store.removeItem(key);
        }
      }
    }
  });

  const form = document.querySelector("form[data-draft]");
  if (!form) {
    return;
  }
  const key = `${ours}${form.dataset.draft}`;
  const title = form.elements.title;
  const content = form.elements.content;
  const notice = document.getElementById("draft-notice");

  const read = () => {
    try {
      return JSON.parse(store.getItem(key));
    } catch {
      return null;
    }
  };
  const keep = () => {
    store.setItem(key, JSON.stringify({title: title.value, content: content.value, at: Date.now()}));
  };
  const say = (text, ...buttons) => {
    notice.replaceChildren(document.createTextNode(text), ...buttons);
    notice.hidden = false;
  };
  const button = (label, action) => {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.addEventListener("click", action);
    return element;
  };

  const draft = read();
  if (draft && (draft.title !== title.value || draft.content !== content.value)) {
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
    let response;
    try {
      response = await fetch(form.action || window.location.href, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
      });
    } catch {
      ready();
      say(notice.dataset.offline);
      notice.focus();
      return;
    }
    if (response.ok && response.redirected) {
      store.removeItem(key);
    }
    // The answer, whatever it is (the saved note, the form with its errors, both texts of a
    // conflict), replaces this page as if the browser had posted the form itself.
    const page = await response.text();
    window.history.replaceState(null, "", response.url);
    document.open();
    document.write(page);
    document.close();
  });
})();
