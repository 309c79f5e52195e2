// Web Push on this device (docs/reminders.md). "Notify me on this device" asks the browser's
// permission (from the button press, as iOS requires), subscribes the service worker with
// Memo's VAPID public key and sends the subscription with the page's CSRF token; "Stop"
// tells Memo and unsubscribes. Where the browser cannot (no service worker or PushManager:
// iOS outside a Home Screen app) the buttons stay hidden and the Home Screen note shows.
(() => {
  const box = document.getElementById("push");
  const able = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!box || !able) {
    return;
  }
  const said = document.getElementById("push-said");
  const on = document.getElementById("push-on");
  const off = document.getElementById("push-off");
  document.getElementById("push-unsupported").hidden = true;

  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  };
  const key = toBytes(box.dataset.key);
  const sameKey = (buffer) =>
    buffer && buffer.byteLength === key.length && new Uint8Array(buffer).every((b, i) => b === key[i]);
  const show = (subscribed) => {
    on.hidden = subscribed;
    off.hidden = !subscribed;
  };

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

  on.addEventListener("click", async () => {
    on.disabled = true;
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        said.textContent = box.dataset.denied;
        return;
      }
      const made = await subscription(await navigator.serviceWorker.ready);
      const {endpoint, keys} = made.toJSON();
      const kept = await tell(box.dataset.subscribe, {endpoint, p256dh: keys.p256dh, auth: keys.auth});
      if (!kept) {
        await made.unsubscribe(); // Memo refused it: nothing is left behind
      }
      show(kept);
    } catch {
      said.textContent = box.dataset.failed;
    } finally {
      on.disabled = false;
    }
  });

  off.addEventListener("click", async () => {
    off.disabled = true;
    try {
      const registration = await navigator.serviceWorker.ready;
      const made = await registration.pushManager.getSubscription();
      if (made) {
        await tell(box.dataset.unsubscribe, {endpoint: made.endpoint});
        await made.unsubscribe();
      }
      show(false);
    } catch {
      said.textContent = box.dataset.failed;
    } finally {
      off.disabled = false;
    }
  });

  navigator.serviceWorker.ready
    .then((registration) => registration.pushManager.getSubscription())
    .then((made) => show(Boolean(made) && Notification.permission === "granted"))
    .catch(() => show(false));
})();
