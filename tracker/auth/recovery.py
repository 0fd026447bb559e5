"""What a person does alone with their account: reset a forgotten password, verify their
address, and sign in with a second factor (an authenticator app, or a recovery code).

Links sent by e-mail carry a random token; only its SHA-256 is kept, it works once, and a
reset link expires after an hour. No answer here says whether an address has an account: a
reset asked for an unknown address, or a registration with an address already in use, looks
the same on the page (the owner of the address is told by e-mail instead).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup

from tracker.audit.operations import record_change
from tracker.auth.models import AccountToken, RecoveryCode, TokenPurpose, User
from tracker.auth.operations import AccountError, end_sessions, normalise_email, set_password
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.notifications import mail
from tracker.notifications.mail import Composed, page_url, recipient_locale
from tracker.notifications.models import Kind

log = logging.getLogger(__name__)

RESET_LIFETIME = timedelta(hours=1)
VERIFY_LIFETIME = timedelta(days=7)
RECOVERY_CODES = 10


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _issue(user: User, purpose: TokenPurpose, lifetime: timedelta) -> str:
    """A new single-use token; the older unused ones of the same purpose stop working."""
    now = utcnow()
    db.session.execute(
        sa.update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    raw = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            token_hash=_digest(raw),
            user_id=user.id,
            purpose=purpose,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return raw


def find_token(raw: str, purpose: TokenPurpose) -> AccountToken | None:
    """The token if it is still usable (not used, not expired, its account active)."""
    if not raw or len(raw) > 100:
        return None
    token = db.session.scalar(
        sa.select(AccountToken).where(
            AccountToken.token_hash == _digest(raw), AccountToken.purpose == purpose
        )
    )
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    return token


def _send(user: User, composed_in_their_language) -> None:
    with recipient_locale(user):
        mail.queue(user, Kind.account.value, composed_in_their_language())


# --- a forgotten password --------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Send a reset link if the address has an active account; say nothing either way."""
    try:
        address = normalise_email(email)
    except AccountError:
        return
    user = db.session.scalar(sa.select(User).where(User.email == address))
    if user is None or not user.active:
        log.info("password reset asked for an address without an active account")
        return
    raw = _issue(user, TokenPurpose.reset_password, RESET_LIFETIME)

    def compose():
        return Composed(
            subject=_("Choose a new password"),
            paragraphs=[
                _(
                    "Someone (we hope you) asked to reset the password of your account. The "
                    "link below works once, for an hour."
                ),
                _("If you did not ask for it, ignore this message: your password stays as it is."),
            ],
            link=page_url("auth.reset_password", token=raw),
            link_label=_("Choose a new password"),
        )

    _send(user, compose)


def reset_password(token: AccountToken, password: str) -> User:
    """Set the new password; the link is spent and every session of the account ends."""
    user = db.session.get(User, token.user_id)
    set_password(user, password)
    token.used_at = utcnow()
    end_sessions(user)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached the address
    record_change(
        "user", user.id, actor=user, before={"password": "old"}, after={"password": "reset"}
    )
    return user


# --- verifying the address -------------------------------------------------------------------


def send_verification(user: User) -> None:
    raw = _issue(user, TokenPurpose.verify_email, VERIFY_LIFETIME)

    def compose():
        return Composed(
            subject=_("Confirm your e-mail address"),
            paragraphs=[
                _(
                    "Confirm that this address is yours to finish your registration. You can "
                    "prepare drafts meanwhile; submitting a proposal waits for this step."
                ),
            ],
            link=page_url("auth.verify_email", token=raw),
            link_label=_("Confirm my address"),
        )

    _send(user, compose)


def verify_email(token: AccountToken) -> User:
    user = db.session.get(User, token.user_id)
    token.used_at = utcnow()
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def tell_address_in_use(email: str) -> None:
    """Someone registered with an address that has an account: its owner is told, the page
    shows what a new registration shows."""
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        return

    def compose():
        return Composed(
            subject=_("Someone tried to register with your address"),
            paragraphs=[
                _(
                    "Somebody tried to create a new account with this e-mail address, which "
                    "already has one. If it was you, sign in instead; if you forgot your "
                    "password, choose a new one from the sign-in page."
                ),
                _("If it was not you, you need not do anything."),
            ],
            link=page_url("auth.forgot_password"),
            link_label=_("Choose a new password"),
        )

    _send(user, compose)


# --- two-factor sign-in ----------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    from tracker.identity.operations import current_identity

    issuer = current_identity().name
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code(uri: str) -> Markup:
    """The QR code of the secret, drawn here as SVG (no image service sees the secret)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return Markup(svg.replace("<svg ", '<svg role="img" aria-hidden="true" ', 1))  # noqa: S704 - drawn by segno from our own data


def _step_accepted(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step a six-digit code belongs to (now, or 30 s either side), or None; a code
    whose step was already used is refused (a code works once)."""
    code = "".join((code or "").split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            if last_step is not None and step <= last_step:
                return None
            return step
    return None


def enable(user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor sign-in on once the app shows the right code; returns the recovery
    codes (shown once)."""
    step = _step_accepted(secret, code, None)
    if step is None:
        raise AccountError(
            _("This code is not the one your app shows now. Check the time of your phone."),
            "code",
        )
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = new_recovery_codes(user)
    record_change(
        "user", user.id, actor=user, before={"second_factor": "off"}, after={"second_factor": "on"}
    )
    return codes


def new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits, typed as xxxxx-xxxxx
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_digest(code)))
    return codes


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def check_second_factor(user: User, code: str) -> bool:
    """A code from the app, or an unused recovery code (which is then spent)."""
    if not user.totp_enabled_at or not user.totp_secret:
        return False
    step = _step_accepted(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return True
    typed = "".join((code or "").lower().split())
    if len(typed) == 10 and "-" not in typed:
        typed = f"{typed[:5]}-{typed[5:]}"
    row = db.session.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(typed),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = utcnow()
    return True


def disable(user: User, actor: User) -> None:
    """Turn two-factor sign-in off (the person, or an administrator resetting it: recorded)."""
    if not user.totp_enabled_at:
        return
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record_change(
        "user", user.id, actor=actor, before={"second_factor": "on"}, after={"second_factor": "off"}
    )
    if actor.id != user.id:
        end_sessions(user)  # a lost phone: whoever holds it is signed out too


def required_for(user: User) -> bool:
    """Whether this person must use a second factor (TRACKER_REQUIRE_2FA_FOR_STAFF)."""
    return bool(current_app.config.get("REQUIRE_2FA_FOR_STAFF")) and user.is_staff
