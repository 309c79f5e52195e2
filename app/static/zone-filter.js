// A search box above a long <select data-filter-placeholder>: typing keeps only the options
// whose label or value holds the words typed ("서울", "seoul", "+09"). Without JavaScript the
// select works as it is.
document.querySelectorAll("select[data-filter-placeholder]").forEach((select) => {
  const box = document.createElement("input");
  box.type = "search";
  box.placeholder = select.dataset.filterPlaceholder;
  box.setAttribute("aria-label", select.dataset.filterPlaceholder);
  box.setAttribute("aria-controls", select.id);
  box.className = "select-filter";
  select.before(box);
  // The box pushes what follows down: a field focused on load (a form's first error, below)
  // would slide out of view, so it is brought back.
  const focused = document.activeElement;
  if (focused && focused !== document.body && box.compareDocumentPosition(focused) & Node.DOCUMENT_POSITION_FOLLOWING) {
    focused.scrollIntoView({ block: "center" });
  }
  const options = Array.from(select.options);
  box.addEventListener("input", () => {
    const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    let first = null;
    for (const option of options) {
      const text = `${option.text} ${option.value}`.toLowerCase().replace(/_/g, " ");
      const shown = option.selected || words.every((word) => text.includes(word));
      option.hidden = !shown;
      if (shown && !option.selected && first === null) first = option;
    }
    if (first && words.length) select.size = Math.min(8, options.filter((o) => !o.hidden).length);
    else select.removeAttribute("size");
  });
});
