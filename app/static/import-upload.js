// My page's import form goes straight to the file store. S3 names the stored file itself
// (`${filename}`); this sends the name as the attachment script does, for stores that do not
// (a local one), and in a form any store keeps: `utf-8''` and percent-encoded.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const field = form.matches("form.import-upload") && form.elements["x-amz-meta-filename"];
  const file = field && form.querySelector("input[type=file]").files[0];
  if (file) {
    field.value = `utf-8''${encodeURIComponent(file.name)}`;
  }
});
