"""A new person recovers their account alone: register, confirm the address from the e-mail,
forget the password and choose a new one from the e-mail, turn on two-factor sign-in and sign
in with a code. E-mails go through the outbox, the worker and a real SMTP server on loopback."""

from __future__ import annotations

import time

import pyotp

from tests.browser.conftest import link_in, sign_in, sign_out, wait_for_mail

FIRST = "copper lantern meadow tide"
SECOND = "quarry violet harbour lemon"
EMAIL = "lena@greenhouse.lu"


def test_register_verify_forget_reset_and_sign_in_with_a_second_factor(page, live_server, mailbox):
    base = live_server
    page.goto(f"{base}/register")
    page.get_by_label("Your name").fill("Lena Lux")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Your company's legal name").fill("Greenhouse Lux S.A.")
    page.locator("#password").fill(FIRST)
    page.get_by_label("Repeat the password").fill(FIRST)
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()

    confirm = wait_for_mail(mailbox, EMAIL, "Confirm your e-mail address")
    page.goto(link_in(confirm, "/verify/"))
    page.get_by_role("button", name="Confirm my address").click()
    page.get_by_text(f"Your e-mail address {EMAIL} is confirmed.").wait_for()

    # Forgotten: the sign-in page offers a reset, the e-mail brings the link.
    page.goto(f"{base}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    reset = wait_for_mail(mailbox, EMAIL, "Choose a new password")
    page.goto(link_in(reset, "/password/reset/"))
    page.locator("#password").fill(SECOND)
    page.get_by_label("Repeat the new password").fill(SECOND)
    page.get_by_role("button", name="Save the new password").click()
    page.get_by_text("Your password is changed").wait_for()

    sign_in(page, base, EMAIL, FIRST)
    page.get_by_text("The e-mail or the password is not right.", exact=True).wait_for()
    sign_in(page, base, EMAIL, SECOND)
    page.get_by_role("heading", name="Proposals of Greenhouse Lux S.A.").wait_for()

    # Two-factor sign-in: the key shown beside the QR code goes into the "app".
    page.goto(f"{base}/account")
    page.get_by_role("link", name="Manage").click()
    assert page.locator(".qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code shown by the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn two-factor sign-in on").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="I have kept them").click()
    sign_out(page)

    sign_in(page, base, EMAIL, SECOND)
    page.get_by_role("heading", name="Second step of signing in").wait_for()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    page.locator(".invalid-feedback", has_text="This code is not right").wait_for()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Proposals of Greenhouse Lux S.A.").wait_for()
