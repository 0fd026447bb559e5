"""An applicant's whole journey in the browser, and the pages on a phone-sized screen."""

from __future__ import annotations

import re

import pytest

from tests import factories as f
from tests.browser.conftest import (
    SCREENSHOTS,
    link_in,
    no_horizontal_overflow,
    pick,
    sign_in,
    sign_out,
    wait_for_mail,
)
from tracker.extensions import db

PASSWORD = "journey-password-1"


@pytest.fixture
def open_call(app):
    with app.app_context():
        call = f.call(title="BPF call 2026 (single stage)")
        f.clause()
        db.session.commit()
        return call.id


def save(page, button="Save draft"):
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_register_fill_come_back_complete_upload_submit(
    page, live_server, mailbox, open_call, tmp_path
):
    base = live_server
    page.goto(f"{base}/register")
    page.get_by_label("Your name").fill("Anna Applicant")
    page.get_by_label("E-mail").fill("anna@solarcold.lu")
    page.get_by_label("Your company's legal name").fill("SolarCold S.à r.l.")
    pick(page, "Country of registration", "Luxem")
    page.locator("#password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    confirm = wait_for_mail(mailbox, "anna@solarcold.lu", "Confirm your e-mail address")
    page.goto(link_in(confirm, "/verify/"))
    page.get_by_role("button", name="Confirm my address").click()
    page.get_by_text("Your e-mail address anna@solarcold.lu is confirmed.").wait_for()
    sign_in(page, base, "anna@solarcold.lu", PASSWORD)

    page.get_by_role("button", name="Start a proposal").click()
    page.get_by_text("Your draft is started").wait_for()
    draft_url = page.url

    # Two sections in a first sitting.
    page.get_by_role("link", name=re.compile("1. Lead applicant")).click()
    page.get_by_label("Registration number").fill("B201234")
    page.get_by_label("Registration date").fill("2012-03-01")
    page.get_by_label("Employees").fill("18")
    page.get_by_label("Turnover, last year (EUR)").fill("1,900,000")
    page.get_by_label("Turnover, the year before (EUR)").fill("1750000")
    page.get_by_label("Turnover, two years before (EUR)").fill("1600000")
    page.get_by_label("De minimis aid, current fiscal year (EUR)").fill("0")
    page.get_by_label("De minimis aid, previous fiscal year (EUR)").fill("0")
    page.get_by_label("De minimis aid, two fiscal years ago (EUR)").fill("15000")
    save(page, "Save and continue")
    page.get_by_text("Lead applicant saved.").wait_for()

    first = page.locator("fieldset").filter(has_text="Partner 1")
    first.get_by_label("Name").fill("Mekong Fisheries Cooperative")
    pick(first, "Country", "Vietnam")
    assert first.locator("select").first.input_value() == "VN"
    first.get_by_label("Type").select_option("civil_society")
    first.get_by_label("What the partner does in the project").fill("Runs the cold rooms.")
    save(page)
    page.get_by_text("Partners saved.").wait_for()

    sign_out(page)
    sign_in(page, base, "anna@solarcold.lu", PASSWORD)
    page.goto(draft_url)
    page.get_by_role("link", name=re.compile("1. Lead applicant")).click()
    assert page.get_by_label("Registration number").input_value() == "B201234"
    assert page.get_by_label("Turnover, last year (EUR)").input_value() == "1,900,000.00"
    page.get_by_role("link", name=re.compile("2. Partners")).click()
    assert page.locator("fieldset").filter(has_text="Partner 1").get_by_label(
        "Name"
    ).input_value() == ("Mekong Fisheries Cooperative")

    page.get_by_role("link", name=re.compile("3. Project")).click()
    page.get_by_label("Title").fill("Solar cold rooms for Mekong fishers")
    page.get_by_label("Summary").fill("Pay-per-use solar cold storage for three cooperatives.")
    page.get_by_label("Type of project").select_option("pilot")
    pick(page, "Sector", "Renewable energy")
    assert page.locator("select#sector_id").input_value() != ""
    pick(page, "Target countries", "Vietnam")
    page.get_by_label("7. Affordable and clean energy").check()
    page.get_by_label("Problem addressed").fill("A third of the catch spoils before sale.")
    page.get_by_label("Proposed solution").fill("Solar cold rooms run by the cooperatives.")
    page.get_by_label("Jobs created").fill("35")
    page.get_by_label("Beneficiaries").fill("1500")
    page.get_by_label("Technology transfer").fill(
        "Local technicians trained to maintain the rooms."
    )
    page.get_by_label("Innovation and additionality").fill(
        "First pay-per-use cold chain in the delta."
    )
    page.get_by_label("Sustainability after the grant").fill("User fees pay for maintenance.")
    page.get_by_label("Start date").fill("2027-09-01")
    page.get_by_label("Duration in months").fill("24")
    save(page, "Save and continue")
    page.get_by_text("Project saved.").wait_for()

    page.get_by_label("Total project cost (EUR)").fill("320000")
    page.get_by_label("Requested co-financing (EUR)").fill("160000")
    page.get_by_label("Own contribution (EUR)").fill("160000")
    save(page, "Save and continue")
    page.get_by_text("Budget saved.").wait_for()

    for index in range(6):
        page.locator(f"#steps-{index}-answer").fill(f"Our practice for step {index + 1}.")
    save(page, "Save and continue")
    page.get_by_text("HRDD self-assessment saved.").wait_for()

    pdf = tmp_path / "document.pdf"
    pdf.write_bytes(f.PDF_BYTES)
    for kind in ("business_plan", "budget_sheet", "partner_letter"):
        page.get_by_label("Kind of document").select_option(kind)
        page.get_by_label("File").set_input_files(str(pdf))
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("“document.pdf” uploaded.").wait_for()
    page.get_by_role("link", name="Continue").click()

    page.get_by_text("The Beneficiary shall respect").or_(
        page.get_by_text("human rights")
    ).first.wait_for()
    page.get_by_label(re.compile("information in this proposal is accurate")).check()
    page.get_by_label(re.compile("accept the human-rights due-diligence clause")).check()
    page.get_by_label(re.compile("de minimis aid declared")).check()
    page.get_by_label(re.compile("data-protection notice")).check()
    save(page)
    page.get_by_text("Declarations saved.").wait_for()

    page.goto(draft_url)
    assert page.locator(".section-nav .badge", has_text="complete").count() == 7
    page.get_by_role("link", name=re.compile("Submit the proposal")).click()
    page.get_by_role("button", name="Submit the proposal").click()
    page.get_by_text("Submitted. Keep the receipt below.").wait_for()
    reference = page.locator("#receipt-reference").inner_text()
    assert re.fullmatch(r"BPF-\d{4}-001", reference)
    assert re.fullmatch(r"[0-9a-f]{64}", page.locator("#receipt-checksum").inner_text())
    assert "Submitted, waiting for screening" in page.content()

    page.goto(f"{base}/")
    row = page.locator("tr", has_text=reference)
    assert "Submitted, waiting for screening" in row.inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "applicant-dashboard.png"), full_page=True)


def test_pages_fit_a_phone_screen(phone, live_server, app, open_call):
    with app.app_context():
        anna = f.user("anna@company.lu", "applicant", organisation="Company S.A.")
        proposal = f.fill(f.draft(db.session.get(f.Call, open_call), anna), anna)
        db.session.commit()
        proposal_id = proposal.id
    phone.goto(f"{live_server}/login")
    assert no_horizontal_overflow(phone)
    sign_in(phone, live_server, "anna@company.lu", f.PASSWORD)
    SCREENSHOTS.mkdir(exist_ok=True)
    for name, path in [
        ("dashboard", "/"),
        ("proposal", f"/proposals/{proposal_id}"),
        ("lead", f"/proposals/{proposal_id}/sections/lead"),
        ("partners", f"/proposals/{proposal_id}/sections/partners"),
        ("documents", f"/proposals/{proposal_id}/documents"),
        ("submit", f"/proposals/{proposal_id}/submit"),
    ]:
        phone.goto(live_server + path)
        phone.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"), full_page=True)
        assert no_horizontal_overflow(phone), f"{path} is wider than the phone screen"
    # The menu folds into a button that still reaches every link.
    phone.get_by_role("button", name="Menu").click()
    assert phone.get_by_role("link", name="My proposals").is_visible()
