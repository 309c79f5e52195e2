"""What the browser tests check on every page a person reaches: axe-core's WCAG 2.2 AA rules
(the pinned copy in tests/vendor/axe-core, MPL-2.0) and no sideways scroll; where the
screenshots of the docs are kept."""

from pathlib import Path

from devenv.liveserver import ROOT

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
# Only the violations are worked out in full (axe's `resultTypes`: the rules that pass keep one
# node each): the same violations, in about 15 % less of the renderer's CPU.
RUN_AXE = """async (tags) => {
  const options = {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]};
  const result = await axe.run(document, options);
  return result.violations.map((v) => ({id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
}"""
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


class Findings(dict):
    """What the checks found, by page. With `widths`, each page is checked at each width in
    turn (the tab's viewport resized in place, as a window is, then back to the first)."""

    def __init__(self, widths=()):
        super().__init__()
        self.widths = widths


def check_here(page, path, found):
    """Add to `found` what axe finds on the page as it is, and any sideways scroll: at each of
    `found.widths`, if it has them."""
    widths = getattr(found, "widths", ())
    if not widths:
        check_as_it_is(page, path, found)
        return
    height = page.viewport_size["height"]
    for width in widths:
        page.set_viewport_size({"width": width, "height": height})
        check_as_it_is(page, f"{path} at {width} px", found)
    page.set_viewport_size({"width": widths[0], "height": height})


def check_as_it_is(page, path, found):
    """Add to `found` what axe finds on the page at its present size, and any sideways scroll."""
    if page.evaluate("typeof axe") == "undefined":  # once a document
        page.evaluate(AXE.read_text())
    assert page.evaluate("typeof axe.run") == "function", "axe is in the page"
    violations = page.evaluate(RUN_AXE, WCAG_22_AA)
    if violations:
        found[path] = violations
    overflow = page.evaluate(SIDEWAYS)
    if overflow > 0:
        found[f"{path} scrolls sideways"] = overflow
