"""A reviewer's first steps with the keyboard alone: sign in, find the proposal waiting in My work,
open it, start its screening, fill the checklist's note and save it. No click, no mouse."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories as f
from tracker.demo import DEMO_PASSWORD, load_demo
from tracker.extensions import db

FOCUSED = "() => { const e = document.activeElement; return [e.tagName, e.id, e.name || '', (e.innerText || e.value || '').trim()]; }"


def tab_to(page, matches, limit: int = 120) -> list:
    """Press Tab until the focused element matches; fail if it never does."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        seen.append(focused)
        if matches(focused):
            return focused
    raise AssertionError(f"never reached by Tab: {seen[-15:]}")


def test_a_reviewer_works_with_the_keyboard_alone(page, live_server, app):
    if app.database_kind != "sqlite":
        import pytest

        pytest.skip("the keyboard journey runs once, on SQLite")
    with app.app_context():
        load_demo(with_history=False)
        from tracker.auth.models import User

        anna = db.session.scalar(sa.select(User).where(User.email == "applicant@demo.lu"))
        proposal = f.submitted(f.call(title="Keyboard call"), anna)
        db.session.commit()
        reference = proposal.reference

    page.goto(f"{live_server}/login")
    tab_to(page, lambda e: e[0] == "INPUT" and e[2] == "email")
    page.keyboard.type("reviewer@demo.lu")
    tab_to(page, lambda e: e[0] == "INPUT" and e[2] == "password")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/review/my-work")

    # The proposal waits in "Submitted"; Enter on its reference opens it.
    tab_to(page, lambda e: e[0] == "A" and e[3] == reference)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/review/proposals/*")

    # Start the screening with the action's button (its confirmation is accepted by the fixture).
    tab_to(page, lambda e: e[0] == "BUTTON" and e[3] == "Start screening")
    page.keyboard.press("Enter")
    page.get_by_text("Done: the proposal is now").wait_for()

    # The checklist comes first: a note on its first item, then "Save the checklist".
    tab_to(page, lambda e: e[0] == "INPUT" and e[2].endswith("-note"))
    page.keyboard.type("Checked against the register")
    tab_to(page, lambda e: e[0] == "BUTTON" and e[3] == "Save the checklist")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("input[value='Checked against the register']").count() == 1
    assert "Screening" in page.locator("#status").inner_text()
