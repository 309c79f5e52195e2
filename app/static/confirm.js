// Ask before sending a form marked data-confirm. A file, not an onsubmit attribute:
// the Content-Security-Policy runs no inline script.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
