// Fill a form's hidden time zone field with the browser's own IANA zone (e.g. "Asia/Seoul").
// A file, not an inline script: the Content-Security-Policy runs none. Without it the server
// takes the usual zone of the page's language.
document.addEventListener("DOMContentLoaded", () => {
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  for (const field of document.querySelectorAll("input[data-browser-time-zone]")) {
    field.value = zone;
  }
});
