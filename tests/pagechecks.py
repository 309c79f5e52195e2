"""What the browser tests check on every page a person reaches: axe-core's WCAG 2.2 AA rules
(the pinned copy in tests/vendor/axe-core, MPL-2.0) and no sideways scroll; where the
screenshots of the docs are kept."""

from pathlib import Path

from devenv.liveserver import ROOT

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
}"""
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


def check_here(page, path, found):
    """Add to `found` what axe finds on the page as it is, and any sideways scroll."""
    page.evaluate(AXE.read_text())
    assert page.evaluate("typeof axe.run") == "function", "axe is in the page"
    violations = page.evaluate(RUN_AXE, WCAG_22_AA)
    if violations:
        found[path] = violations
    overflow = page.evaluate(SIDEWAYS)
    if overflow > 0:
        found[f"{path} scrolls sideways"] = overflow
