"""axe-core over the demo's pages, for every role, on a desktop and (for the two main roles) on a
phone: no violation of any impact.

The pages are found by following the links a person sees, from their landing page, one page per
kind of address (``/review/proposals/12`` and ``/review/proposals/13`` are one kind), so new
pages are covered without being listed here. axe-core's script comes from the
axe-playwright-python package (never from the internet).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import sign_in
from tracker.demo import DEMO_PASSWORD, load_demo

PAGES_PER_ROLE = 40
SKIPPED = re.compile(
    r"(\.(csv|xlsx|pdf|json|png|svg|eml)$)|/logout|/documents/|/download|/receipt/|/static/"
    r"|/attachments/|/bootstrap/|/versions/\d+/pdf"
)
ROLES = [
    ("applicant@demo.lu", True),
    ("reviewer@demo.lu", True),
    ("hrdd@demo.lu", False),
    ("committee@demo.lu", False),
    ("reporting@demo.lu", False),
    ("admin@demo.lu", False),
    ("evaluator@demo.lu", False),
]


def _axe_script() -> str:
    axe = pytest.importorskip("axe_playwright_python", reason="axe-playwright-python not installed")
    return (Path(axe.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def _kind(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _violations(page, script: str) -> list[str]:
    page.add_script_tag(content=script)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
        found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def _crawl(page, base: str, check) -> tuple[dict[str, list[str]], set[str]]:
    """Visit the pages reachable by links from the landing page; check each kind once."""
    seen: set[str] = set()
    queue = [urlsplit(page.url).path]
    problems: dict[str, list[str]] = {}
    while queue and len(seen) < PAGES_PER_ROLE:
        path = queue.pop(0)
        if _kind(path) in seen:
            continue
        seen.add(_kind(path))
        response = page.goto(base + path)
        if response is None or response.status != 200:
            continue
        found = check(page)
        if found:
            problems[path] = found
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            if parts.netloc != urlsplit(base).netloc or SKIPPED.search(parts.path):
                continue
            if _kind(parts.path) not in seen:
                query = f"?{parts.query}" if parts.query and "page=" not in parts.query else ""
                queue.append(parts.path + query)
    return problems, seen


@pytest.mark.parametrize(("email", "on_phone"), ROLES, ids=[e.split("@")[0] for e, _ in ROLES])
def test_axe_finds_no_violation_on_any_page(request, app, live_server, browser, email, on_phone):
    if app.database_kind != "sqlite":
        pytest.skip("the pages are the same on PostgreSQL: axe runs once, on SQLite")
    script = _axe_script()
    with app.app_context():
        load_demo()
    viewports = [{"width": 1280, "height": 900}] + (
        [{"width": 375, "height": 740}] if on_phone else []
    )
    problems = {}
    for viewport in viewports:
        # The test injects axe-core; the pages keep their Content-Security-Policy otherwise.
        context = browser.new_context(viewport=viewport, locale="en-GB", bypass_csp=True)
        page = context.new_page()
        sign_in(page, live_server, email, DEMO_PASSWORD)
        page.wait_for_load_state("load")
        found_problems, visited = _crawl(page, live_server, lambda p: _violations(p, script))
        for path, found in found_problems.items():
            problems[f"{viewport['width']}px {path}"] = found
        # A crawl that stopped at the landing page would check nothing.
        assert len(visited) >= 5, (email, sorted(visited))
        context.close()
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


# What a reader would see as broken: the page wider than the screen, a badge or a button whose
# words run past its box or its container, a heading or a label cut off. Boxes that scroll on
# purpose (wide tables, the pickers' lists) are left out.
OVERFLOW = """() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    ' "' + el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
  if (document.documentElement.scrollWidth > width + 1) {
    // Name the innermost boxes that reach past the screen: they are what widens the page.
    const wide = [...document.body.querySelectorAll('*')].filter((el) =>
      !el.closest('.table-responsive, .ts-dropdown, .visually-hidden') &&
      el.getBoundingClientRect().right > width + 1 &&
      ![...el.children].some((child) => child.getBoundingClientRect().right > width + 1));
    found.push('the page is ' + document.documentElement.scrollWidth + 'px wide on a ' + width +
      'px screen, by ' + wide.slice(0, 3).map((el) => name(el) + '.' + el.className).join(', '));
  }
  for (const el of document.querySelectorAll('.badge, .btn, .nav-link, h1, h2, h3, label, dt, dd, .list-group-item')) {
    if (el.closest('.table-responsive, .ts-dropdown, .visually-hidden, .dropdown-menu')) { continue; }
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) { continue; }
    if (box.right > width + 1) { found.push(name(el) + ' ends ' + Math.round(box.right - width) + 'px past the screen'); }
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline') {
      found.push(name(el) + ' is cut: ' + el.scrollWidth + 'px of words in ' + el.clientWidth + 'px');
    }
    const parent = el.parentElement && el.parentElement.getBoundingClientRect();
    if (el.classList.contains('badge') && parent && box.right > parent.right + 1) {
      found.push(name(el) + ' runs ' + Math.round(box.right - parent.right) + 'px out of its box');
    }
  }
  return found;
}"""


# The two main roles in both languages; the others, whose pages are fewer, in one each.
LAYOUT_RUNS = [
    ("applicant@demo.lu", "fr"),
    ("applicant@demo.lu", "de"),
    ("reviewer@demo.lu", "fr"),
    ("reviewer@demo.lu", "de"),
    ("committee@demo.lu", "fr"),
    ("admin@demo.lu", "de"),
    ("hrdd@demo.lu", "fr"),
]


@pytest.mark.parametrize(("email", "language"), LAYOUT_RUNS)
def test_the_layout_holds_on_a_phone_in_the_longest_languages(
    app, live_server, browser, email, language
):
    """French and German say most things at greater length than English: every page the person
    reaches, on a phone, keeps its words inside their boxes."""
    if app.database_kind != "sqlite":
        pytest.skip("the pages are the same on PostgreSQL: the layout is checked once, on SQLite")
    with app.app_context():
        load_demo()
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale=language)
    page = context.new_page()
    page.goto(f"{live_server}/login")  # in the browser's language: found by the fields' names
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").first.click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == language
    problems, visited = _crawl(page, live_server, lambda p: p.evaluate(OVERFLOW))
    context.close()
    assert len(visited) >= 5, sorted(visited)
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())
