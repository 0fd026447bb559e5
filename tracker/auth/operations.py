"""Accounts: registration, staff creation, passwords, invitations, and the form stash."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.auth.models import FormStash, Invitation, Organisation, Role, User, UserRole
from tracker.core.time import utcnow
from tracker.extensions import db

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
# A hash to compare against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH: str | None = None


class AccountError(Exception):
    """A request about an account that cannot be honoured; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_email(email: str) -> str:
    """Validate the syntax of an e-mail address and return it lower-cased."""
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(
            _("This is not a valid e-mail address: %(why)s", why=str(error)), "email"
        ) from None
    return result.normalized.lower()


def email_in_use(email: str) -> bool:
    return db.session.scalar(sa.select(User.id).where(User.email == email.lower())) is not None


def password_problem(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return _("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if password.strip() == "" or len(set(password)) < 4:
        return _("This password is too easy to guess.")
    return None


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def set_password(user: User, password: str) -> None:
    """Hash and store a new password; other sessions of the account end."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, "password")
    user.password_hash = hash_password(password)
    user.session_token = secrets.token_hex(32)
    user.must_change_password = False


def _new_user(email: str, name: str, password: str, roles: Iterable[Role | str]) -> User:
    email = normalise_email(email)
    if email_in_use(email):
        raise AccountError(_("An account with this e-mail address already exists."), "email")
    name = (name or "").strip()
    if not name:
        raise AccountError(_("Give a name."), "name")
    user = User(email=email, name=name, password_hash="")
    set_password(user, password)
    user.role_rows = [UserRole(role=Role(str(role))) for role in sorted({str(r) for r in roles})]
    db.session.add(user)
    return user


def register_applicant(
    *, email: str, name: str, password: str, organisation_name: str, country: str | None
) -> User:
    """An applicant signing up founds a new organisation (colleagues join by invitation)."""
    organisation_name = (organisation_name or "").strip()
    if not organisation_name:
        raise AccountError(_("Give your company's name."), "organisation")
    user = _new_user(email, name, password, [Role.applicant])
    user.organisation = Organisation(name=organisation_name, country=country or None)
    db.session.flush()
    log.info("applicant %s registered for a new organisation", user.id)
    return user


def create_user(
    *,
    email: str,
    name: str,
    roles: Iterable[Role | str],
    password: str | None = None,
    organisation_name: str | None = None,
) -> tuple[User, str | None]:
    """Create an account (CLI or administrator); returns it and the one-time password if generated.

    An applicant needs an organisation, found by exact name or created.
    """
    roles = {Role(str(r)) for r in roles}
    if not roles:
        raise AccountError(_("Give at least one role."), "roles")
    if Role.applicant in roles and not (organisation_name or "").strip():
        raise AccountError(_("An applicant needs an organisation."), "organisation")
    generated = None
    if password is None:
        generated = secrets.token_urlsafe(12)
        password = generated
    user = _new_user(email, name, password, roles)
    user.must_change_password = generated is not None
    if organisation_name:
        name = organisation_name.strip()
        organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
        user.organisation = organisation or Organisation(name=name)
    db.session.flush()
    return user, generated


def set_roles(user: User, roles: Iterable[Role | str], acting: User) -> None:
    """Change a user's roles (administrators); nobody removes their own administrator role."""
    wanted = {Role(str(r)) for r in roles}
    if not wanted:
        raise AccountError(_("Give at least one role."), "roles")
    if user.id == acting.id and Role.admin in user.roles and Role.admin not in wanted:
        raise AccountError(_("You cannot remove your own administrator role."), "roles")
    if Role.applicant in wanted and user.organisation is None:
        raise AccountError(_("An applicant needs an organisation."), "roles")
    current = {row.role: row for row in user.role_rows}
    for role, row in current.items():
        if role not in wanted:
            user.role_rows.remove(row)
    for role in wanted - set(current):
        user.role_rows.append(UserRole(role=role))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None."""
    global _DUMMY_HASH
    user = db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current or ""):
        raise AccountError(_("The current password is not right."), "current_password")
    set_password(user, new)


# --- invitations -----------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_invitation(inviter: User, email: str | None = None) -> tuple[Invitation, str]:
    """An invitation to the inviter's organisation; the token is returned once, never stored."""
    if inviter.organisation is None or not inviter.has_role(Role.applicant):
        raise AccountError(_("Only members of an organisation can invite colleagues."))
    if email:
        email = normalise_email(email)
    token = secrets.token_urlsafe(32)
    days = current_app.config.get("INVITATION_DAYS", 14)
    invitation = Invitation(
        organisation=inviter.organisation,
        token_hash=_token_hash(token),
        email=email or None,
        created_by=inviter,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    """A usable invitation for this token, or None (unknown, used, revoked or expired)."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == _token_hash(token or ""))
    )
    if invitation is None or not invitation.is_usable:
        return None
    return invitation


def accept_invitation(invitation: Invitation, *, email: str, name: str, password: str) -> User:
    """A colleague creates their account inside the inviting organisation."""
    if not invitation.is_usable:
        raise AccountError(_("This invitation has expired or was already used."))
    if invitation.email and normalise_email(email) != invitation.email:
        raise AccountError(_("This invitation is for another e-mail address."), "email")
    user = _new_user(email, name, password, [Role.applicant])
    user.organisation_id = invitation.organisation_id
    db.session.flush()
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    return user


def revoke_invitation(invitation: Invitation, user: User) -> None:
    if user.organisation_id != invitation.organisation_id:
        raise AccountError(_("This invitation is not yours to revoke."))
    invitation.revoked_at = utcnow()


# --- the form stash --------------------------------------------------------------------------

STASH_HOURS = 24


def stash_form(path: str, items: list[tuple[str, str]]) -> str:
    """Keep what was posted to ``path`` while signed out; returns the token that finds it."""
    token = secrets.token_urlsafe(24)
    cutoff = utcnow() - timedelta(hours=STASH_HOURS)
    db.session.execute(sa.delete(FormStash).where(FormStash.created_at < cutoff))
    db.session.add(FormStash(token_hash=_token_hash(token), path=path, data={"items": items}))
    return token


def take_stash(token: str | None, path: str) -> list[tuple[str, str]] | None:
    """The items stashed for this path, removed from storage; None when there are none."""
    if not token:
        return None
    stash = db.session.get(FormStash, _token_hash(token))
    if stash is None or stash.path != path:
        return None
    if stash.created_at < utcnow() - timedelta(hours=STASH_HOURS):
        db.session.delete(stash)
        return None
    items = [tuple(item) for item in stash.data.get("items", [])]
    db.session.delete(stash)
    return items


def organisation_members(organisation: Organisation) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.organisation_id == organisation.id).order_by(User.name)
        )
    )


def pending_invitations(
    organisation: Organisation, now: datetime | None = None
) -> list[Invitation]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.organisation_id == organisation.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at.desc())
        )
    )
