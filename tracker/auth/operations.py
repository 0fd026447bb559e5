"""Accounts: registration, staff creation, passwords, invitations, and the form stash."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from tracker.audit.operations import plain, record_change
from tracker.auth.models import (
    FormStash,
    Invitation,
    Organisation,
    Role,
    User,
    UserRole,
    UserSession,
)
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


# zxcvbn's scale: 3 is "safely unguessable" for an online attack, which the rate limit slows.
MIN_PASSWORD_SCORE = 3


def password_problem(password: str, user: User | None = None, **inputs: str) -> str | None:
    """Why a password would be refused, or None: too short, or common or easy to guess.

    zxcvbn checks it against the lists of passwords leaked most often, dictionary words,
    keyboard patterns, dates and repeats, and against the person's own name and e-mail.
    """
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    personal = [
        v
        for v in (*inputs.values(), getattr(user, "email", None), getattr(user, "name", None))
        if v
    ]
    personal += [part for value in list(personal) for part in re.split(r"[@.\s_-]+", value) if part]
    # Long passphrases are checked on their first 100 characters (zxcvbn slows down beyond).
    result = zxcvbn(password[:100], user_inputs=personal)
    if result["score"] < MIN_PASSWORD_SCORE:
        return _(
            "This password is too common or too easy to guess (a word, a name, a date, a "
            "keyboard pattern or part of your e-mail). Add unrelated words or characters."
        )
    return None


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def set_password(user: User, password: str) -> None:
    """Hash and store a new password; every other session of the account ends."""
    problem = password_problem(password, user)
    if problem:
        raise AccountError(problem, "password")
    user.password_hash = hash_password(password)
    user.must_change_password = False
    if user.id is not None:
        end_sessions(user, keep=user.current_session)


def _current_language() -> str:
    from flask import has_request_context
    from flask_babel import get_locale

    if not has_request_context():
        return "en"
    locale = get_locale()
    return locale.language if locale and locale.language in {"en", "fr", "de"} else "en"


def _new_user(
    email: str,
    name: str,
    password: str,
    roles: Iterable[Role | str],
    *,
    check_password: bool = True,
) -> User:
    email = normalise_email(email)
    if email_in_use(email):
        raise AccountError(_("An account with this e-mail address already exists."), "email")
    name = (name or "").strip()
    if not name:
        raise AccountError(_("Give a name."), "name")
    user = User(email=email, name=name, password_hash="", language=_current_language())
    if check_password:
        set_password(user, password)
    else:  # the demo accounts' published password
        user.password_hash = hash_password(password)
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


def organisations_named(name: str) -> list[Organisation]:
    """Organisations with this name, whatever its case and surrounding spaces."""
    wanted = " ".join((name or "").split()).lower()
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(sa.func.lower(sa.func.trim(Organisation.name)) == wanted)
            .order_by(Organisation.id)
        )
    )


def describe_organisation(organisation: Organisation) -> str:
    members = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(User.organisation_id == organisation.id)
    )
    return _(
        "“%(name)s” (no. %(id)s, %(country)s, %(n)s members)",
        name=organisation.name,
        id=organisation.id,
        country=organisation.country or "-",
        n=members,
    )


def create_user(
    *,
    email: str,
    name: str,
    roles: Iterable[Role | str],
    password: str | None = None,
    organisation_name: str | None = None,
    organisation_id: int | None = None,
    allow_duplicate_name: bool = False,
    check_password: bool = True,
    actor: User | None = None,
) -> tuple[User, str | None]:
    """Create an account (CLI or administrator); returns it and the one-time password if generated.

    An applicant joins an existing organisation only when it is chosen by its number
    (``organisation_id``); a name creates a new organisation, and a name another organisation
    already has is refused unless ``allow_duplicate_name`` says a separate one is meant, so
    nobody is put into a company just because someone registered the same name.
    """
    roles = {Role(str(r)) for r in roles}
    if not roles:
        raise AccountError(_("Give at least one role."), "roles")
    organisation_name = " ".join((organisation_name or "").split())
    if Role.applicant in roles and not organisation_name and organisation_id is None:
        raise AccountError(_("An applicant needs an organisation."), "organisation")
    organisation = None
    if organisation_id is not None:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise AccountError(
                _("There is no organisation no. %(id)s.", id=organisation_id), "organisation"
            )
    elif organisation_name:
        same = organisations_named(organisation_name)
        if same and not allow_duplicate_name:
            raise AccountError(
                _(
                    "An organisation with this name exists already: %(list)s. To add the person "
                    "to it, choose it by its number; to create a separate organisation with the "
                    "same name, confirm that it is a different company.",
                    list="; ".join(describe_organisation(o) for o in same),
                ),
                "organisation",
            )
        organisation = Organisation(name=organisation_name)
    generated = None
    if password is None:
        generated = secrets.token_urlsafe(12)
        password = generated
    user = _new_user(email, name, password, roles, check_password=check_password)
    user.must_change_password = generated is not None
    # Typed by an administrator or on the command line: the address counts as confirmed.
    user.email_verified_at = utcnow()
    if organisation is not None:
        user.organisation = organisation
    db.session.flush()
    record_change("user", user.id, actor=actor, before=None, after=user_snapshot(user))
    return user, generated


def duplicate_organisation_ids() -> set[int]:
    """Organisations that share their name with another one (flagged to administrators)."""
    key = sa.func.lower(sa.func.trim(Organisation.name))
    shared = sa.select(key).group_by(key).having(sa.func.count(Organisation.id) > 1)
    return set(db.session.scalars(sa.select(Organisation.id).where(key.in_(shared))))


def user_snapshot(user: User) -> dict:
    from tracker.programmes.models import Programme

    codes = dict(db.session.execute(sa.select(Programme.id, Programme.code)).all())
    return {
        "roles": plain(
            sorted(
                row.role.value + (f" ({codes.get(row.programme_id)})" if row.programme_id else "")
                for row in user.role_rows
            )
        ),
        "active": plain(user.active),
        "organisation": user.organisation.name if user.organisation else None,
    }


def update_user(
    user: User,
    *,
    roles: Iterable[Role | str],
    active: bool,
    acting: User,
    scoped: dict[int, Iterable[Role | str]] | None = None,
) -> None:
    """An administrator changes a person's roles and whether the account is active (audited)."""
    before = user_snapshot(user)
    set_roles(user, roles, acting, scoped)
    if user.id == acting.id and not active:
        raise AccountError(_("You cannot deactivate your own account."), "active")
    user.active = active
    if not active:
        end_sessions(user)
    record_change("user", user.id, actor=acting, before=before, after=user_snapshot(user))


# Staff roles that can be held for given programmes only (administrators and applicants
# cannot: an administrator runs the whole tracker, an applicant belongs to a company).
SCOPABLE_ROLES = (Role.reviewer, Role.hrdd, Role.committee, Role.reporting, Role.evaluator)


def set_roles(
    user: User,
    roles: Iterable[Role | str],
    acting: User,
    scoped: dict[int, Iterable[Role | str]] | None = None,
) -> None:
    """Change a user's roles (administrators): ``roles`` for the whole tracker, ``scoped``
    {programme id: roles} for given programmes; nobody removes their own administrator role."""
    everywhere = {Role(str(r)) for r in roles}
    wanted = {(role, None) for role in everywhere}
    for programme_id, programme_roles in (scoped or {}).items():
        for raw in programme_roles:
            role = Role(str(raw))
            if role not in SCOPABLE_ROLES:
                raise AccountError(
                    _("%(role)s is held for the whole tracker only.", role=role.title), "roles"
                )
            if role not in everywhere:  # held everywhere already covers the programme
                wanted.add((role, int(programme_id)))
    if not wanted:
        raise AccountError(_("Give at least one role."), "roles")
    if user.id == acting.id and Role.admin in user.roles and Role.admin not in everywhere:
        raise AccountError(_("You cannot remove your own administrator role."), "roles")
    if Role.applicant in everywhere and user.organisation is None:
        raise AccountError(_("An applicant needs an organisation."), "roles")
    current = {(row.role, row.programme_id): row for row in user.role_rows}
    for key, row in current.items():
        if key not in wanted:
            user.role_rows.remove(row)
    for role, programme_id in sorted(wanted - set(current), key=lambda k: (k[0].value, k[1] or 0)):
        user.role_rows.append(UserRole(role=role, programme_id=programme_id))


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


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password or "")


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


# --- sessions --------------------------------------------------------------------------------


def session_idle_limit() -> timedelta:
    """How long a session may go unused before it ends."""
    return current_app.config["SESSION_IDLE_LIMIT"]


# A session's last use is written at most this often (not on every request).
SEEN_RESOLUTION = timedelta(minutes=5)


def start_session(user: User, *, user_agent: str = "", ip_address: str = "") -> str:
    """A new server-side session for a person signing in; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=_token_hash(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        user_agent=(user_agent or "")[:200],
        ip_address=(ip_address or "")[:64],
    )
    db.session.add(row)
    user.session_token = token
    user.current_session = row
    return token


def _session_row(token: str | None) -> UserSession | None:
    if not token:
        return None
    return db.session.scalar(
        sa.select(UserSession).where(UserSession.token_hash == _token_hash(token))
    )


def is_live(row, now: datetime | None = None) -> bool:
    """Whether a session (its row, or any row with its ``ended_at`` and ``last_seen_at``) is
    still in use."""
    now = now or utcnow()
    return row.ended_at is None and row.last_seen_at > now - session_idle_limit()


def load_session(token: str | None) -> User | None:
    """The active person whose live session has this token, or None (ended, idle, unknown).
    The session, the person and their roles come in one query (every request asks)."""
    if not token:
        return None
    row = (
        db.session.scalars(
            sa.select(UserSession)
            .where(UserSession.token_hash == _token_hash(token))
            .options(sa.orm.joinedload(UserSession.user).joinedload(User.role_rows))
        )
        .unique()
        .first()
    )
    now = utcnow()
    if row is None or not is_live(row, now):
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_seen_at < now - SEEN_RESOLUTION:
        # Written on its own connection, so a request that rolls back still counts as a use.
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
            )
    user.session_token = token
    user.current_session = row
    return user


def session_stands(token: str) -> tuple[tuple[str, int] | None, bool]:
    """The data's generation (as :func:`tracker.core.generation.current`) and whether this
    token's session stands as it did when it was last loaded in full: live, its person active,
    its last use recent enough that nothing about it needs writing now. One query and no ORM
    objects, for pages kept as rendered (tracker.core.pagecache); anything else about the
    person (roles, second factor) is data, and changing it moves the generation."""
    from tracker.core.generation import DataGeneration

    generation = DataGeneration.__table__
    sessions = UserSession.__table__
    users = User.__table__
    query = (
        sa.select(
            generation.c.epoch,
            generation.c.number,
            sessions.c.last_seen_at,
            sessions.c.ended_at,
            users.c.active,
        )
        .select_from(
            generation.outerjoin(
                sessions.join(users, users.c.id == sessions.c.user_id),
                sessions.c.token_hash == _token_hash(token),
            )
        )
        .where(generation.c.id == 1)
    )
    # One statement outside any transaction: no BEGIN and ROLLBACK around it.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(query).first()
    if row is None:
        return None, False
    now = utcnow()
    stands = (
        row.last_seen_at is not None  # else no session has this token
        and bool(row.active)
        and is_live(row, now)
        and row.last_seen_at >= now - SEEN_RESOLUTION
    )
    return (row.epoch, row.number), stands


def end_session(row: UserSession | None) -> None:
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()


def end_sessions(user: User, keep: UserSession | None = None) -> int:
    """End every session of a person (except ``keep``); returns how many ended."""
    query = sa.update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None and keep.id is not None:
        query = query.where(UserSession.id != keep.id)
    result = db.session.execute(
        query.values(ended_at=utcnow()).execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def active_sessions(user: User) -> list[UserSession]:
    now = utcnow()
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at > now - session_idle_limit(),
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def expired_session_user_id(token: str | None) -> int | None:
    """Whose session this was, when it is no longer live (for keeping what they typed)."""
    row = _session_row(token)
    if row is None or is_live(row):
        return None
    return row.user_id


# --- the form stash --------------------------------------------------------------------------

STASH_HOURS = 24
STASH_MAX_BYTES = 64 * 1024
STASH_MAX_PER_PERSON = 5


class StashRefused(AccountError):
    """What was typed cannot be kept (too much, or too many forms kept already)."""


def stash_form(user_id: int, path: str, items: list[tuple[str, str]]) -> str:
    """Keep what a person whose session expired posted to ``path``; returns the token.

    Only the person who signs in again gets it back. Bounded per person, in size and count.
    """
    size = sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in items)
    if size > STASH_MAX_BYTES:
        raise StashRefused(
            _(
                "What you typed is too long to be kept while you sign in again "
                "(at most %(kb)s KB). Go back in your browser and copy it before signing in.",
                kb=STASH_MAX_BYTES // 1024,
            )
        )
    cutoff = utcnow() - timedelta(hours=STASH_HOURS)
    db.session.execute(sa.delete(FormStash).where(FormStash.created_at < cutoff))
    kept = db.session.scalar(
        sa.select(sa.func.count()).select_from(FormStash).where(FormStash.user_id == user_id)
    )
    if kept >= STASH_MAX_PER_PERSON:
        raise StashRefused(
            _(
                "%(n)s forms are already kept for you; sign in to get them back before "
                "another one can be kept.",
                n=STASH_MAX_PER_PERSON,
            )
        )
    token = secrets.token_urlsafe(24)
    db.session.add(
        FormStash(
            token_hash=_token_hash(token),
            user_id=user_id,
            path=path,
            data={"items": items},
            size_bytes=size,
        )
    )
    return token


def take_stash(token: str | None, path: str, user: User) -> list[tuple[str, str]] | None:
    """The items kept for this path and person, removed from storage; None when there are none."""
    if not token:
        return None
    stash = db.session.get(FormStash, _token_hash(token))
    if stash is None or stash.path != path or stash.user_id != user.id:
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
