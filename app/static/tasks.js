// Tick a task item without leaving the place on the page: the tick's form is sent as the
// button would send it, the page it answers with (the same page, after the redirect) gives
// the parts marked data-refresh their new state, the focus goes back to the same box (or
// the one now in its place) and #tick-status reads out what happened. Anything else (a
// conflict, a refusal, no network) falls back to the plain form post, which comes back to
// the item's anchor without JavaScript too. The tick's idempotency key is made before its
// first send and goes with the fallback too: a tick whose answer was lost is made once.
(() => {
  const status = document.getElementById("tick-status");
  if (!status) return;
  let plain = false; // the fallback's own submit goes through untouched
  const fallBack = (form, button, key) => {
    plain = true;
    const field = document.createElement("input");
    Object.assign(field, {type: "hidden", name: "idempotency_key", value: key});
    form.append(field);
    form.requestSubmit(button);
  };
  const refresh = (page) => {
    document.querySelectorAll("[data-refresh][id]").forEach((part) => {
      const fresh = page.getElementById(part.id);
      if (fresh) part.replaceWith(document.importNode(fresh, true));
    });
  };
  const refocus = (button, row, position) => {
    let target = document.getElementById(button.id);
    if (!target && row) {
      const boxes = document.querySelectorAll(`#${row} button.tick[formaction]`);
      target = boxes[Math.min(position, boxes.length - 1)] || document.querySelector(`#${row} a`);
    }
    if (target) target.focus();
    return target;
  };
  document.addEventListener("submit", async (event) => {
    const button = event.submitter;
    if (plain || !button || !button.matches("button.tick[id][formaction*='/tasks/']")) return;
    event.preventDefault();
    const form = event.target;
    const row = button.closest("[data-refresh][id]")?.id;
    const boxes = row ? [...document.querySelectorAll(`#${row} button.tick[formaction]`)] : [];
    const position = boxes.indexOf(button);
    const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    const body = new FormData(form, button);
    body.set("idempotency_key", key);
    let page;
    try {
      const answer = await fetch(button.formAction, {method: "POST", body, credentials: "same-origin"});
      const landed = new URL(answer.url);
      if (!answer.ok || !answer.redirected || landed.pathname !== window.location.pathname) {
        throw new Error(String(answer.status));
      }
      page = new DOMParser().parseFromString(await answer.text(), "text/html");
    } catch {
      fallBack(form, button, key);
      return;
    }
    refresh(page);
    const flashes = [...page.querySelectorAll("main > .flash:not([hidden])")];
    const here = document.getElementById("tick-flashes");
    const shown = flashes.map((flash) => document.importNode(flash, true));
    shown.forEach((flash) => flash.removeAttribute("role")); // #tick-status says them once
    if (here) here.replaceChildren(...shown);
    const target = refocus(button, row, position);
    const said = flashes.map((flash) => flash.textContent.trim());
    if (target && target.id === button.id) {
      said.push(target.getAttribute("aria-label"));
    } else if (status.dataset.ticked) {
      // The box left the page (the list shows open items only): say which item is done.
      const item = new URL(button.formAction).searchParams.get("item") || "";
      said.push(status.dataset.ticked.replace("%s", item));
    }
    status.textContent = said.join(" ");
  });
})();
