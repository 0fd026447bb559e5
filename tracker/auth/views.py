"""Sign-in, registration, passwords, the organisation page and user administration."""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from tracker.audit.operations import entries_for_object
from tracker.auth import operations as ops
from tracker.auth import recovery
from tracker.auth.forms import (
    AcceptInvitationForm,
    CodeForm,
    ConfirmPasswordForm,
    EnableTwoFactorForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    PasswordForm,
    RegisterForm,
    ResetPasswordForm,
    UserForm,
    UserRolesForm,
)
from tracker.auth.models import Invitation, Organisation, Role, TokenPurpose, User
from tracker.core.forms import BaseForm
from tracker.core.time import utcnow
from tracker.core.web import STASH_KEY, applicant_required, get_or_404, roles_required, safe_next
from tracker.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _failed(response) -> bool:
    """Only attempts that did not succeed count against the limit (a success redirects)."""
    return response.status_code != 302


def _start_session(user: User) -> None:
    """Sign in on a fresh server-side session (committed here, so the cookie names a real row)."""
    stash = session.get(STASH_KEY)
    locale = session.get("locale")
    session.clear()  # a fresh session on sign-in (no fixation)
    if stash:
        session[STASH_KEY] = stash
    if locale:
        session["locale"] = locale
    ops.start_session(
        user,
        user_agent=request.headers.get("User-Agent", ""),
        ip_address=request.remote_addr or "",
    )
    db.session.commit()
    login_user(user)


# The first step of a sign-in with a second factor, kept for a few minutes in the cookie.
PENDING = "pending_second_factor"
PENDING_SECONDS = 300
PENDING_TRIES = 5


def _after_sign_in(user: User, next_url: str | None):
    if user.must_change_password:
        flash(_("Choose your own password to replace the one-time password."), "warning")
        return redirect(url_for("auth.password"))
    if recovery.required_for(user) and not user.totp_enabled_at:
        flash(_("Staff accounts sign in with a second factor: set it up now."), "warning")
        return redirect(url_for("auth.two_factor"))
    return redirect(safe_next(next_url, url_for("proposals.dashboard")))


@bp.route("/login", methods=["GET", "POST"])
# Only failed attempts count (a successful sign-in redirects).
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("proposals.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = ops.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("The e-mail or the password is not right."))
        elif user.totp_enabled_at:
            db.session.rollback()  # signed in only once the second factor is given
            session[PENDING] = {
                "user": user.id,
                "at": int(time.time()),
                "next": form.next.data or "",
                "tries": 0,
            }
            return redirect(url_for("auth.login_code"))
        else:
            db.session.commit()
            _start_session(user)
            return _after_sign_in(user, form.next.data)
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login_code():
    pending = session.get(PENDING) or {}
    user = db.session.get(User, pending.get("user", 0)) if pending else None
    if (
        user is None
        or not user.active
        or not user.totp_enabled_at
        or time.time() - pending.get("at", 0) > PENDING_SECONDS
    ):
        session.pop(PENDING, None)
        flash(_("Sign in again: the second step waits five minutes at most."), "warning")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if recovery.check_second_factor(user, form.code.data):
            user.last_login_at = utcnow()
            db.session.commit()
            session.pop(PENDING, None)
            _start_session(user)
            left = recovery.recovery_codes_left(user)
            if left <= 3:
                flash(
                    _(
                        "%(n)s recovery codes are left: make new ones on your account page.",
                        n=left,
                    ),
                    "warning",
                )
            return _after_sign_in(user, pending.get("next"))
        db.session.rollback()
        pending["tries"] = pending.get("tries", 0) + 1
        if pending["tries"] >= PENDING_TRIES:
            session.pop(PENDING, None)
            flash(_("Too many wrong codes: sign in again."), "danger")
            return redirect(url_for("auth.login"))
        session[PENDING] = pending
        form.code.errors.append(
            _("This code is not right, or was used already. Type the one your app shows now.")
        )
    return render_template("auth/login_code.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        ops.end_session(current_user.current_session)
        db.session.commit()
    stash = session.get(STASH_KEY)  # a kept form waits for its owner, whoever signs in next
    logout_user()
    session.clear()
    if stash:
        session[STASH_KEY] = stash
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/account")
@login_required
def account():
    return render_template(
        "auth/account.html",
        sessions=ops.active_sessions(current_user),
        current=current_user.current_session,
    )


@bp.post("/account/sessions/end-all")
@login_required
def end_all_sessions():
    ended = ops.end_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(
        _("You are signed out on every device (%(n)s sessions ended).", n=ended),
        "info",
    )
    return redirect(url_for("auth.login"))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_one_session(session_id: int):
    row = next((s for s in ops.active_sessions(current_user) if s.id == session_id), None)
    if row is None:
        abort(404)
    ops.end_session(row)
    db.session.commit()
    if current_user.current_session is not None and row.id == current_user.current_session.id:
        logout_user()
        session.clear()
        flash(_("You are signed out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("That session was ended."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("proposals.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            address = ops.normalise_email(form.email.data)
            problem = ops.password_problem(
                form.password.data, email=address, name=form.name.data or ""
            )
            if problem:
                raise ops.AccountError(problem, "password")
            if ops.email_in_use(address):
                # The page says what it says to a new registration; the address's owner is
                # told by e-mail (nobody learns here who has an account).
                ops.hash_password(form.password.data)  # the same work, the same time
                recovery.tell_address_in_use(address)
            else:
                user = ops.register_applicant(
                    email=address,
                    name=form.name.data,
                    password=form.password.data,
                    organisation_name=form.organisation.data,
                    country=form.country.data,
                )
                recovery.send_verification(user)
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "email"].errors.append(error.message)
        else:
            db.session.commit()
            return render_template("auth/check_email.html", email=address, registered=True)
    return render_template("auth/register.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm(email=request.args.get("email", ""))
    if form.validate_on_submit():
        recovery.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("auth/check_email.html", email=form.email.data.strip())
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def reset_password(token: str):
    found = recovery.find_token(token, TokenPurpose.reset_password)
    if found is None:
        return render_template("auth/link_invalid.html", reset=True), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            recovery.reset_password(found, form.password.data)
        except ops.AccountError as error:
            db.session.rollback()
            form.password.errors.append(error.message)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(
                _("Your password is changed and every session was ended. Sign in with it."),
                "success",
            )
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """The link in the e-mail opens a page with one button (a mail scanner following the
    link does not confirm anything)."""
    found = recovery.find_token(token, TokenPurpose.verify_email)
    if found is None:
        return render_template("auth/link_invalid.html", reset=False), 404
    form = BaseForm()
    if request.method == "POST" and form.validate_on_submit():
        user = recovery.verify_email(found)
        db.session.commit()
        flash(_("Your e-mail address %(email)s is confirmed.", email=user.email), "success")
        if current_user.is_authenticated:
            return redirect(url_for("proposals.dashboard"))
        return redirect(url_for("auth.login"))
    return render_template("auth/verify.html", form=form)


@bp.post("/account/verify/again")
@login_required
@limiter.limit(_register_limit)
def send_verification_again():
    if current_user.email_verified_at is None:
        recovery.send_verification(current_user)
        db.session.commit()
        flash(_("A new link is on its way to %(email)s.", email=current_user.email), "info")
    return redirect(safe_next(request.form.get("next"), url_for("auth.account")))


# --- two-factor sign-in ----------------------------------------------------------------------


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    user = current_user
    if user.totp_enabled_at:
        return render_template(
            "auth/two_factor.html",
            enabled=True,
            left=recovery.recovery_codes_left(user),
            form=ConfirmPasswordForm(),
            required=recovery.required_for(user),
        )
    form = EnableTwoFactorForm()
    codes = None
    if form.validate_on_submit():
        secret = (form.secret.data or "").strip().upper()
        if len(secret) != 32 or not set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
            abort(400)
        try:
            codes = recovery.enable(user, secret, form.code.data)
        except ops.AccountError as error:
            db.session.rollback()
            form.code.errors.append(error.message)
        else:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, first=True)
    else:
        form.secret.data = recovery.new_secret()
    uri = recovery.provisioning_uri(user, form.secret.data.upper())
    return render_template(
        "auth/two_factor.html",
        enabled=False,
        form=form,
        qr=recovery.qr_code(uri),
        secret=form.secret.data.upper(),
        required=recovery.required_for(user),
    )


def _password_confirmed(form) -> bool:
    if not form.validate_on_submit():
        return False
    if not ops.check_password(current_user, form.password.data):
        flash(_("The password is not right."), "danger")
        return False
    return True


@bp.post("/account/two-factor/off")
@login_required
@limiter.limit(_login_limit, deduct_when=lambda response: "danger" in str(session.get("_flashes")))
def two_factor_off():
    form = ConfirmPasswordForm()
    if recovery.required_for(current_user):
        flash(_("Staff accounts must keep two-factor sign-in."), "warning")
    elif _password_confirmed(form):
        recovery.disable(current_user, current_user)
        db.session.commit()
        flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for("auth.two_factor"))


@bp.post("/account/two-factor/codes")
@login_required
def two_factor_codes():
    form = ConfirmPasswordForm()
    if not current_user.totp_enabled_at or not _password_confirmed(form):
        return redirect(url_for("auth.two_factor"))
    codes = recovery.new_recovery_codes(current_user)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes, first=False)


# Pages a person who must set up a second factor can still reach.
SETUP_ENDPOINTS = frozenset(
    {"auth.two_factor", "auth.logout", "auth.language", "static", "bootstrap.static"}
)


@bp.before_app_request
def _second_factor_required():
    if (
        current_user.is_authenticated
        and request.endpoint not in SETUP_ENDPOINTS
        and not current_user.totp_enabled_at
        and recovery.required_for(current_user)
    ):
        flash(_("Staff accounts sign in with a second factor: set it up now."), "warning")
        return redirect(url_for("auth.two_factor"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            ops.change_password(current_user, form.current_password.data, form.password.data)
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "password"].errors.append(error.message)
        else:
            db.session.commit()
            flash(
                _("Your password was changed. Other sessions of your account were signed out."),
                "success",
            )
            return redirect(url_for("proposals.dashboard"))
    return render_template("auth/password.html", form=form)


@bp.post("/language")
def language():
    choice = request.form.get("locale", "")
    if choice in current_app.config["LANGUAGES"]:
        session["locale"] = choice
        if current_user.is_authenticated and current_user.language != choice:
            current_user.language = choice  # messages come in the language last chosen
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("proposals.dashboard")))


# --- the organisation ------------------------------------------------------------------------


@bp.route("/organisation", methods=["GET", "POST"])
@applicant_required
def organisation():
    organisation = current_user.organisation
    form = InviteForm()
    link = None
    if form.validate_on_submit():
        try:
            _invitation, token = ops.create_invitation(current_user, form.email.data)
        except ops.AccountError as error:
            db.session.rollback()
            form.email.errors.append(error.message)
        else:
            db.session.commit()
            link = url_for("auth.accept_invitation", token=token, _external=True)
            flash(
                _(
                    "Invitation created. Pass the link below to your colleague; it is shown only once."
                ),
                "success",
            )
            form = InviteForm(formdata=None)
    return render_template(
        "auth/organisation.html",
        organisation=organisation,
        members=ops.organisation_members(organisation),
        invitations=ops.pending_invitations(organisation),
        form=form,
        link=link,
    )


@bp.post("/organisation/invitations/<int:invitation_id>/revoke")
@applicant_required
def revoke_invitation(invitation_id: int):
    invitation = get_or_404(Invitation, invitation_id)
    if invitation.organisation_id != current_user.organisation_id:
        abort(404)
    ops.revoke_invitation(invitation, current_user)
    db.session.commit()
    flash(_("The invitation was revoked."), "info")
    return redirect(url_for("auth.organisation"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = ops.find_invitation(token)
    if invitation is None:
        return render_template("auth/invitation_invalid.html"), 404
    if current_user.is_authenticated:
        flash(_("Sign out first to accept an invitation for a new account."), "warning")
        return redirect(url_for("proposals.dashboard"))
    form = AcceptInvitationForm(email=invitation.email)
    if form.validate_on_submit():
        try:
            user = ops.accept_invitation(
                invitation, email=form.email.data, name=form.name.data, password=form.password.data
            )
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "email"].errors.append(error.message)
        else:
            recovery.send_verification(user)
            db.session.commit()
            _start_session(user)
            flash(
                _(
                    "Welcome! You have joined %(org)s. Confirm your e-mail address with the "
                    "link we sent you before you submit a proposal.",
                    org=invitation.organisation.name,
                ),
                "success",
            )
            return redirect(url_for("proposals.dashboard"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)


# --- user administration ---------------------------------------------------------------------


@bp.get("/admin/users")
@roles_required(Role.admin)
def users():
    text = request.args.get("q", "").strip()
    query = sa.select(User).order_by(User.name).limit(200)
    if text:
        like = f"%{text.lower()}%"
        query = query.where(sa.or_(sa.func.lower(User.name).like(like), User.email.like(like)))
    people = list(db.session.scalars(query.options(sa.orm.selectinload(User.organisation))))
    return render_template("auth/users.html", users=people, q=text)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(Role.admin)
def create_user():
    form = UserForm(organisation_id=request.args.get("organisation_id", ""))
    joining = None
    if (form.organisation_id.data or "").isdigit():
        joining = db.session.get(Organisation, int(form.organisation_id.data))
        if joining is None:
            abort(404)
    if form.validate_on_submit():
        try:
            user, generated = ops.create_user(
                email=form.email.data,
                name=form.name.data,
                roles=form.roles.data,
                organisation_name=None if joining else (form.organisation.data or None),
                organisation_id=joining.id if joining else None,
                allow_duplicate_name=form.new_organisation.data,
                actor=current_user,
            )
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "email"].errors.append(error.message)
        else:
            db.session.commit()
            return render_template("auth/user_created.html", user=user, password=generated)
    return render_template("auth/user_form.html", form=form, joining=joining)


@bp.get("/admin/organisations")
@roles_required(Role.admin)
def organisations():
    text = request.args.get("q", "").strip()[:100]
    members = (
        sa.select(sa.func.count(User.id))
        .where(User.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )
    query = sa.select(Organisation, members.label("members")).order_by(
        sa.func.lower(Organisation.name), Organisation.id
    )
    duplicates = ops.duplicate_organisation_ids()
    if text:
        query = query.where(sa.func.lower(Organisation.name).like(f"%{text.lower()}%"))
    elif request.args.get("duplicates"):
        query = query.where(Organisation.id.in_(duplicates or {0}))
    rows = db.session.execute(query.limit(300)).all()
    return render_template("auth/organisations.html", rows=rows, duplicates=duplicates, q=text)


def _scoped_from(form_data) -> dict[int, list[str]]:
    """The programme-only roles ticked on the form (``scope-<programme id>-<role>``)."""
    from tracker.programmes.models import Programme

    known = set(db.session.scalars(sa.select(Programme.id)))
    scoped: dict[int, list[str]] = {}
    for name in form_data:
        head, _sep, rest = name.partition("-")
        programme, _sep, role = rest.partition("-")
        if head != "scope" or not programme.isdigit() or int(programme) not in known:
            continue
        if role in {r.value for r in ops.SCOPABLE_ROLES}:
            scoped.setdefault(int(programme), []).append(role)
    return scoped


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.admin)
def edit_user(user_id: int):
    from tracker.programmes.models import Programme

    user = get_or_404(User, user_id)
    everywhere = [row.role.value for row in user.role_rows if row.programme_id is None]
    held = {(row.programme_id, row.role.value) for row in user.role_rows if row.programme_id}
    form = UserRolesForm(obj=None, roles=everywhere, active=user.active)
    if form.validate_on_submit():
        scoped = _scoped_from(request.form)
        held = {(p, r) for p, roles in scoped.items() for r in roles}
        try:
            ops.update_user(
                user,
                roles=form.roles.data or [],
                active=form.active.data,
                acting=current_user,
                scoped=scoped,
            )
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "roles"].errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("auth.users"))
    organisation = (
        db.session.get(Organisation, user.organisation_id) if user.organisation_id else None
    )
    return render_template(
        "auth/user_edit.html",
        form=form,
        user=user,
        organisation=organisation,
        programmes=list(db.session.scalars(sa.select(Programme).order_by(Programme.code))),
        scopable=ops.SCOPABLE_ROLES,
        held=held,
        changes=entries_for_object("user", user.id),
    )


@bp.post("/admin/users/<int:user_id>/two-factor/reset")
@roles_required(Role.admin)
def reset_two_factor(user_id: int):
    user = get_or_404(User, user_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    if user.totp_enabled_at:
        recovery.disable(user, current_user)
        db.session.commit()
        flash(
            _(
                "Two-factor sign-in of %(name)s is off; they set it up again at their next "
                "sign-in.",
                name=user.name,
            ),
            "success",
        )
    return redirect(url_for("auth.edit_user", user_id=user.id))
