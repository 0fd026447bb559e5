"""Browser fixtures: the app served on a local port, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("TRACKER_SCREENSHOTS", "test-results"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(
            f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does it)"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test app served on a free local port for the length of one test."""
    served = Counted(app)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    # A request still running (the browser's last one) finishes before the app's engine is
    # disposed: it would otherwise hand its connection back to a pool no one closes.
    served.wait_until_idle(timeout=10)
    thread.join(timeout=5)


class Counted:
    """The app, counting the requests it is answering (each body read whole, then closed, so
    the request's teardown has run when the count goes down)."""

    def __init__(self, app):
        self.app = app
        self.running = 0
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.running += 1
        try:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            with self.changed:
                self.running -= 1
                self.changed.notify_all()

    def wait_until_idle(self, timeout: float) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.running == 0, timeout)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # confirmations are accepted
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def sign_in(page, base, email, password):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page):
    """Open the account menu and sign out; under load the menu's script may not have started
    when the first click lands, so the click is tried again until the menu opens."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_load_state("load")
    button = page.get_by_role("button", name="Sign out", exact=True)
    for _attempt in range(5):
        page.locator("nav .dropdown-toggle").last.click()
        try:
            button.wait_for(state="visible", timeout=3000)
            break
        except PlaywrightTimeout:
            continue
    button.click()


def no_horizontal_overflow(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )


@pytest.fixture
def mailbox(app, live_server):
    """A loopback SMTP server and the outbox worker running beside the live server, as
    `make run` runs it: e-mails arrive in ``mailbox.messages`` a moment after the change."""
    from tests.notifications.smtp import SmtpServer
    from tracker.extensions import db
    from tracker.notifications.worker import tick

    server = SmtpServer().start()
    app.config.update(server.settings(), BASE_URL=live_server)  # links lead to the live server
    stopping = threading.Event()

    def work():
        with app.app_context():
            while not stopping.is_set():
                tick("browser-test")
                db.session.remove()
                stopping.wait(0.2)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    yield server
    stopping.set()
    worker.join(timeout=10)
    server.stop()


def wait_for_mail(mailbox, address: str, subject: str, timeout: float = 15.0):
    """The newest message to ``address`` whose subject contains ``subject``."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [m for m in mailbox.to(address) if subject in m["Subject"]]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(
        f"no e-mail “{subject}” to {address}: {[m['Subject'] for m in mailbox.messages]}"
    )


def link_in(message, fragment: str) -> str:
    import re

    from tests.notifications.smtp import text_of

    match = re.search(r"http://\S+" + re.escape(fragment) + r"\S+", text_of(message))
    assert match, text_of(message)
    return match.group(0)


def pick(scope, label: str, text: str) -> None:
    """Choose in a country picker as a person does: type part of the name, press Enter."""
    box = scope.get_by_role("combobox", name=label, exact=True)
    box.focus()
    box.press_sequentially(text, delay=20)
    # The filtered list is drawn after the typing settles: wait until its highlighted option is
    # the one typed, then choose it.
    scope.locator(".ts-dropdown .option.active", has_text=text).first.wait_for()
    box.press("Enter")
