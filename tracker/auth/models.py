"""Users, their roles, organisations and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import UTCDateTime
from tracker.core.enums import RichEnum, enum_column
from tracker.core.time import utcnow
from tracker.extensions import db


class Role(RichEnum):
    """What a person may do; staff accounts may hold several."""

    applicant = "applicant"
    reviewer = "reviewer"
    hrdd = "hrdd"
    committee = "committee"
    reporting = "reporting"
    admin = "admin"
    evaluator = "evaluator"

    __titles__ = {
        "applicant": _l("Applicant"),
        "reviewer": _l("Reviewer"),
        "hrdd": _l("HRDD officer"),
        "committee": _l("Committee member"),
        "reporting": _l("Reporting"),
        "admin": _l("Administrator"),
        "evaluator": _l("Evaluator (partner institution)"),
    }


STAFF_ROLES = frozenset(
    {Role.reviewer, Role.hrdd, Role.committee, Role.reporting, Role.admin, Role.evaluator}
)
# Roles that see every proposal of their programmes (evaluators see those assigned to them,
# committee members those at the committee's stages and after).
FULL_VIEW_ROLES = (Role.reviewer, Role.hrdd, Role.reporting)


class Organisation(db.Model):
    """A company whose applicants share their proposals."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="organisation")

    __table_args__ = (sa.Index("ix_organisations_name", "name"),)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class User(UserMixin, db.Model):
    """A person who signs in: an applicant of one organisation, or agency staff."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # The language of the messages the person receives (the one they last chose).
    language: Mapped[str] = mapped_column(sa.String(5), default="en")
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor sign-in with an authenticator app (TOTP): the secret, when it was turned on,
    # and the last time step used (a code works once).
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    # Flask-Login keeps the token of the signed-in session (a UserSession row), never the
    # primary key, so that ending the session on the server ends it for every copy of the cookie.
    session_token: ClassVar[str | None] = None
    current_session: ClassVar[UserSession | None] = None

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, *roles: Role | str) -> bool:
        """Holds one of these roles, for the whole tracker or for some programme."""
        mine = {r.value for r in self.roles}
        return any(str(role) in mine for role in roles)

    def programmes_for(self, *roles: Role | str) -> set[int] | None:
        """The programmes where the person holds one of these roles: None for every programme
        (a role held for the whole tracker, or the administrator's), else a set (maybe empty)."""
        wanted = {str(r) for r in roles}
        found: set[int] = set()
        for row in self.role_rows:
            if row.role == Role.admin:
                return None
            if row.role.value in wanted:
                if row.programme_id is None:
                    return None
                found.add(row.programme_id)
        return found

    def has_role_in(self, programme_id: int | None, *roles: Role | str) -> bool:
        """Holds one of these roles for this programme (or for every programme); an
        administrator holds every staff role everywhere."""
        scope = self.programmes_for(*roles)
        if scope is None:
            return self.has_role(*roles, Role.admin)
        return programme_id in scope

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_applicant(self) -> bool:
        return Role.applicant in self.roles


class UserRole(db.Model):
    """One role held by one user, for the whole tracker or for one programme."""

    __tablename__ = "user_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    # None: every programme; otherwise only this one (an HRDD officer for BPF only, say).
    programme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE")
    )

    __table_args__ = (
        sa.UniqueConstraint("user_id", "role", "programme_id", name="uq_user_roles_scope"),
    )


class Invitation(db.Model):
    """A link a member gives a colleague to join their organisation."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    # Only the SHA-256 of the token is kept; the link itself is shown once, to the inviter.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > utcnow()


class UserSession(db.Model):
    """One signed-in browser: ended on sign-out, after it has been idle too long, or by the
    person from their account page ("sign out on every device")."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only the SHA-256 of the token in the cookie is kept.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")

    user: Mapped[User] = relationship()


class FormStash(db.Model):
    """What a person typed into a form when their session had expired, kept until they sign in
    again as the same person."""

    __tablename__ = "form_stashes"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(sa.String(500))
    data: Mapped[dict] = mapped_column(sa.JSON)
    size_bytes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class TokenPurpose(RichEnum):
    reset_password = "reset_password"  # noqa: S105 - a purpose, not a secret
    verify_email = "verify_email"


class AccountToken(db.Model):
    """A single-use link sent by e-mail (a password reset, an address to verify).

    Only the SHA-256 of the token is kept; the link itself is in the e-mail alone.
    """

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, "token_purpose"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """One of the ten single-use codes that replace the authenticator app when it is lost."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
