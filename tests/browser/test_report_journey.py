"""The demo reporting user reads the yearly report, changes the year and downloads it."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.browser.conftest import SCREENSHOTS, no_horizontal_overflow, sign_in
from tracker.demo import DEMO_PASSWORD, load_demo

HEADLINE_2021 = (
    "In 2021, 4 projects were selected under the Business Partnership Facility, "
    "taking the total to 34 since 2016."
)


def test_reporting_user_reads_and_downloads_the_report(page, live_server, app, tmp_path):
    with app.app_context():
        load_demo()
    sign_in(page, live_server, "reporting@demo.lu", DEMO_PASSWORD)
    page.wait_for_url(f"{live_server}/reports/selections")
    page.get_by_label("Year", exact=True).select_option("2021")
    page.get_by_role("button", name="Show").click()
    assert page.locator("#headline").inner_text() == HEADLINE_2021
    assert page.locator("svg#chart-per-year").is_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-2021.png"), full_page=True)

    page.get_by_label("Year", exact=True).select_option("2020")
    page.get_by_role("button", name="Show").click()
    assert "In 2020, 5 projects were selected" in page.locator("#headline").inner_text()
    assert "taking the total to 30 since 2016" in page.locator("#headline").inner_text()

    with page.expect_download() as download_info:
        page.locator("#download-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == "selections-BPF-2020.xlsx"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    book = load_workbook(io.BytesIO(target.read_bytes()))
    assert book["Summary"]["B5"].value == 5

    with page.expect_download() as download_info:
        page.locator("#download-pdf").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(str(target)).pages).split())
    assert "In 2020, 5 projects were selected under the Business Partnership Facility" in text

    page.set_viewport_size({"width": 375, "height": 740})
    page.reload()
    assert no_horizontal_overflow(page)
