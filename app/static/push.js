// Web Push on this device (docs/reminders.md). One button, for the browser's state: "Notify me
// on this device" asks the browser's permission (from the button press, as iOS requires),
// subscribes the service worker with Memo's VAPID public key and sends the subscription with
// the page's CSRF token, the button saying it is busy meanwhile; a browser (or its push
// service) that does not answer within data-timeout ms is given up, and the page says mail
// still comes. "Stop notifications on this device" tells Memo and unsubscribes. Where the
// browser cannot (no service worker or PushManager: iOS outside a Home Screen app) the button
// stays hidden and the Home Screen note shows.
(() => {
  const box = document.getElementById("push");
  const able = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!box || !able) {
    return;
  }
  const said = document.getElementById("push-said");
  const toggle = document.getElementById("push-toggle");
  document.getElementById("push-unsupported").hidden = true;
  const timeout = Number(box.dataset.timeout) || 15000;
  let subscribed = false;
  let working = false;

  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  };
  const key = toBytes(box.dataset.key);
  const sameKey = (buffer) =>
    buffer && buffer.byteLength === key.length && new Uint8Array(buffer).every((b, i) => b === key[i]);
  const show = (state) => {
    subscribed = state;
    toggle.textContent = state ? box.dataset.off : box.dataset.on;
    toggle.classList.toggle("link", state);
    toggle.removeAttribute("aria-disabled");
    box.removeAttribute("aria-busy");
    toggle.hidden = false;
  };
  const busy = (label) => {
    toggle.textContent = label;
    toggle.setAttribute("aria-disabled", "true");
    box.setAttribute("aria-busy", "true");
  };
  class Late extends Error {}
  const within = (promise) =>
    Promise.race([promise, new Promise((_, fail) => setTimeout(() => fail(new Late()), timeout))]);

  async function tell(url, fields) {
    const body = new FormData();
    body.append("csrf_token", box.dataset.csrf);
    for (const [name, value] of Object.entries(fields)) {
      body.append(name, value);
    }
    const response = await fetch(url, {method: "POST", body, headers: {Accept: "application/json"}});
    const answer = await response.json().catch(() => ({}));
    said.textContent = answer.message || answer.error || box.dataset.failed;
    return response.ok;
  }

  async function subscription(registration) {
    const old = await registration.pushManager.getSubscription();
    if (old && sameKey(old.options.applicationServerKey)) {
      return old;
    }
    if (old) {
      await old.unsubscribe(); // made with an earlier key: the push services would refuse it
    }
    return registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key});
  }

  const turnOn = async () => {
    if ((await Notification.requestPermission()) !== "granted") {
      said.textContent = box.dataset.denied;
      show(false);
      return;
    }
    busy(box.dataset.busy);
    const pending = navigator.serviceWorker.ready.then(subscription);
    let made;
    try {
      made = await within(pending);
    } catch (error) {
      if (error instanceof Late) {
        pending.then((late) => late.unsubscribe()).catch(() => {}); // never told to Memo
        said.textContent = box.dataset.late;
        show(false);
        return;
      }
      throw error;
    }
    const {endpoint, keys} = made.toJSON();
    const kept = await within(tell(box.dataset.subscribe, {endpoint, p256dh: keys.p256dh, auth: keys.auth}));
    if (!kept) {
      await made.unsubscribe(); // Memo refused it: nothing is left behind
    }
    show(kept);
  };

  const turnOff = async () => {
    const registration = await navigator.serviceWorker.ready;
    const made = await registration.pushManager.getSubscription();
    if (made) {
      await tell(box.dataset.unsubscribe, {endpoint: made.endpoint});
      await made.unsubscribe();
    }
    show(false);
  };

  toggle.addEventListener("click", async () => {
    if (working) {
      return;
    }
    working = true;
    try {
      await (subscribed ? turnOff() : turnOn());
    } catch {
      said.textContent = box.dataset.failed;
      show(subscribed);
    } finally {
      working = false;
    }
  });

  navigator.serviceWorker.ready
    .then((registration) => registration.pushManager.getSubscription())
    .then((made) => show(Boolean(made) && Notification.permission === "granted"))
    .catch(() => show(false));
})();
