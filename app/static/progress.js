// Follow work a worker is doing without reloading the page, so nothing typed is lost.
// Each element with data-progress-url names a JSON status ({"status", "finished", ...}); it
// is asked every few seconds until finished, then the page's parts that show the result are
// updated in place (the element's own words, and its class and role when the answer names
// them). Without JavaScript, a <noscript> refresh does the same by reloading.
document.querySelectorAll("[data-progress-url]").forEach((watched) => {
  const every = 2000;
  const follow = async () => {
    let state;
    try {
      const answer = await fetch(watched.dataset.progressUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!answer.ok) throw new Error(String(answer.status));
      state = await answer.json();
    } catch {
      window.setTimeout(follow, every * 2); // offline or busy: ask again later
      return;
    }
    if (!state.finished) {
      window.setTimeout(follow, every);
      return;
    }
    if (state.reload) {
      window.location.reload(); // a page with nothing to type in: show the result whole
      return;
    }
    for (const [name, value] of Object.entries(state.show || {})) {
      document.querySelectorAll(`[data-show="${name}"]`).forEach((element) => {
        if (element.tagName === "IMG") element.src = value;
        else element.textContent = value;
      });
    }
    watched.textContent = state.message || "";
    watched.dataset.status = state.status;
    watched.className = state.class || (state.status === "failed" ? "error" : "status");
    if (state.role) watched.setAttribute("role", state.role);
  };
  window.setTimeout(follow, every);
});
