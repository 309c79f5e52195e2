// Sends a form marked data-auto-submit as soon as the page is read: the import's file has
// arrived in the store, and this starts it. Without this script the person presses its button.
for (const form of document.querySelectorAll("form[data-auto-submit]")) {
  form.requestSubmit();
}
