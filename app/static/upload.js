// Attach a file with a progress bar. Without this script the form still works: the
// browser posts it to the file store, which sends it back to the note. With it, Memo
// first checks the file's size, signs an upload that answers this script instead of
// redirecting, and the page shows the file's name and how much has been sent. Its messages
// come from the form's data-message-* attributes, in the page's language.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("form.upload") || !window.FormData) {
    return;
  }
  const file = form.querySelector("input[type=file]").files[0];
  if (!file) {
    return;
  }
  event.preventDefault();
  const status = form.querySelector(".upload-status");
  const bar = status.querySelector("progress");
  const message = status.querySelector(".upload-message");
  status.hidden = false;
  bar.hidden = false;
  status.classList.remove("flash", "flash-error");
  status.setAttribute("role", "status");
  status.querySelector(".upload-name").textContent = file.name;
  form.querySelector("button[type=submit]").disabled = true;

  // A refusal reads as one, where the file was chosen: the panel's earlier message (a
  // success, perhaps) goes, and the words show as an error beside the form.
  const fail = (text) => {
    form.closest("section")?.querySelectorAll(":scope > .flash").forEach((old) => old.remove());
    bar.hidden = true;
    status.classList.add("flash", "flash-error");
    status.setAttribute("role", "alert");
    message.textContent = text;
    form.querySelector("button[type=submit]").disabled = false;
    status.scrollIntoView({ block: "nearest" });
  };

  const start = new FormData();
  start.append("csrf_token", form.dataset.csrf);
  start.append("name", file.name);
  start.append("size", String(file.size));
  fetch(form.dataset.start, {
    method: "POST",
    body: start,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  })
    .then((response) => response.json().then((body) => ({ ok: response.ok, body })))
    .then(({ ok, body }) => {
      if (!ok) {
        fail(body.error || form.dataset.messageFailed);
        return;
      }
      const upload = new FormData();
      for (const [name, value] of Object.entries(body.fields)) {
        upload.append(name, value);
      }
      upload.append("file", file); // the store reads every field before the file
      const request = new XMLHttpRequest();
      request.upload.addEventListener("progress", (progress) => {
        if (progress.lengthComputable) {
          bar.value = Math.round((100 * progress.loaded) / progress.total);
          message.textContent = `${bar.value}%`;
        }
      });
      request.addEventListener("load", () => {
        if (request.status >= 200 && request.status < 300) {
          bar.value = 100;
          message.textContent = form.dataset.messageChecking;
          window.location.assign(body.confirm);
        } else {
          fail(form.dataset.messageRefused.replace("%s", String(request.status)));
        }
      });
      request.addEventListener("error", () => fail(form.dataset.messageUnreachable));
      request.open("POST", body.url);
      request.send(upload);
    })
    .catch(() => fail(form.dataset.messageOffline));
});

// From here on this script sends the page's upload forms; the mark says so, for a page
// written in place of another (the note form's answer), whose scripts run after it shows.
for (const form of document.querySelectorAll("form.upload")) {
  form.dataset.sentBy = "script";
}
