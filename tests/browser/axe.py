"""axe-core in the page (tests/browser/vendor/axe.min.js): the one helper every browser test uses.
The page's context must bypass the CSP (``browser.new_context(bypass_csp=True)``) to inject it."""

from pathlib import Path

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def serious_violations(page) -> list[tuple]:
    """axe-core's serious and critical findings on the page as it is now: (rule, impact, count, targets)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        (v["id"], v["impact"], len(v["nodes"]), [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
