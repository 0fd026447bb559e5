"""Partnership-proposal tracker: the application factory."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Flask,
    flash,
    has_app_context,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

PACKAGE_DIR = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    """Top-level ``templates/`` or ``migrations/`` in a checkout, or their copy in the wheel."""
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    return PACKAGE_DIR.parent / name


TEMPLATES_DIR = _resource_dir("templates")
MIGRATIONS_DIR = _resource_dir("migrations")


def _config_module():
    """``config.py`` beside the package: the checkout's (an editable install keeps a copy in
    site-packages that goes stale when the file changes), or the one the wheel installed."""
    import importlib.util
    import sys

    source = PACKAGE_DIR.parent / "config.py"
    loaded = sys.modules.get("config")
    if loaded is not None and Path(getattr(loaded, "__file__", "")).resolve() == source.resolve():
        return loaded
    if source.is_file():
        spec = importlib.util.spec_from_file_location("config", source)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["config"] = module
        return module
    import config

    return config


def create_app(config=None, overrides: dict | None = None) -> Flask:
    """Build the app from a config class (or its name), plus optional overrides."""
    config_module = _config_module()

    if config is None:
        config_cls = config_module.config_from_environment()
    elif isinstance(config, str):
        config_cls = config_module.CONFIGS[config]
    else:
        config_cls = config

    import os

    instance_path = os.environ.get("TRACKER_INSTANCE_PATH")
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        instance_path=instance_path,
        instance_relative_config=True,
    )
    app.config.from_object(config_cls)
    if overrides:
        app.config.update(overrides)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'tracker.db'}"
    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = str(instance / "uploads")
    config_cls.init_app(app)

    _init_extensions(app)
    _register_request_hooks(app)  # before the blueprints': a kept page is served first
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    _load_models()
    _load_workflows(app)
    _load_rules()
    from tracker.audit.labels import register_all

    register_all()

    from tracker.cli import register_commands

    register_commands(app)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    for chatty in ("weasyprint", "fontTools"):  # they log every step of every PDF at INFO
        logging.getLogger(chatty).setLevel(logging.ERROR)
    return app


def _init_extensions(app: Flask) -> None:
    from tracker.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    from flask_sqlalchemy.session import Session as FlaskSession

    from tracker.core import generation

    generation.watch(FlaskSession, lambda session: session.get_bind())
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _lazy("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token: str):
        from tracker.auth.operations import load_session

        return load_session(token)

    @login_manager.unauthorized_handler
    def unauthorized():
        return _to_sign_in()


def _lazy(text: str):
    from flask_babel import lazy_gettext

    return lazy_gettext(text)


def _select_locale():
    if not has_request_context():
        return "en_GB"  # the command line speaks (British) English
    choice = session.get("locale")
    languages = ("en", "fr", "de")
    if choice not in languages:
        choice = request.accept_languages.best_match(languages) or "en"
    # British conventions for English (day before month, 24-hour clock), as in Luxembourg.
    return "en_GB" if choice == "en" else choice


# The forms whose content is kept when they are posted after the session expired: an
# allow-list of pages that give the typed text back, never sign-in or account forms.
STASHABLE_ENDPOINTS = frozenset(
    {
        "proposals.edit_section",
        "proposals.respond",
        "review.hrdd",
        "review.score",
        "review.contract",
        "review.transition",
        "review.screening",
        "projects.applicant_report",
        "projects.report",
    }
)


# Pages that take documents: a body over the request limit sends the person back to them.
UPLOAD_ENDPOINTS = frozenset(
    {"proposals.documents", "proposals.respond", "projects.applicant_report"}
)


def _to_sign_in():
    """Send a signed-out visitor to sign in; what a person whose session expired had just
    posted is kept for them and given back after they sign in again."""
    from tracker.auth.operations import StashRefused, expired_session_user_id, stash_form
    from tracker.core.web import STASH_KEY, safe_next
    from tracker.extensions import db

    if request.method == "POST":
        # Come back to the page that showed the form: the same address when it answers GET,
        # otherwise the page the form was on.
        rule = request.url_rule
        if rule is not None and "GET" in (rule.methods or ()):
            back = request.path
        else:
            referrer = urlsplit(request.referrer or "")
            same_site = not referrer.netloc or referrer.netloc == request.host
            back = safe_next(referrer.path if same_site else None, url_for("proposals.dashboard"))
        owner = expired_session_user_id(session.get("_user_id"))
        kept = False
        if owner is not None and request.endpoint in STASHABLE_ENDPOINTS and request.form:
            items = [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"]
            try:
                session[STASH_KEY] = stash_form(owner, back, items)
            except StashRefused as refused:
                db.session.rollback()
                flash(refused.message, "danger")
            else:
                db.session.commit()
                kept = True
        if kept:
            flash(
                _(
                    "Your session had expired. Sign in again: what you typed has been kept, "
                    "review it and save."
                ),
                "warning",
            )
        else:
            flash(_("Your session had expired. Sign in again; nothing was saved."), "warning")
        return redirect(url_for("auth.login", next=back))
    flash(_("Please sign in to continue."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _register_blueprints(app: Flask) -> None:
    from tracker.auth.views import bp as auth_bp
    from tracker.identity.views import bp as identity_bp
    from tracker.imports.views import bp as imports_bp
    from tracker.notifications.views import bp as notifications_bp
    from tracker.programmes.views import bp as programmes_bp
    from tracker.projects.views import bp as projects_bp
    from tracker.proposals.views import bp as proposals_bp
    from tracker.questions.views import bp as questions_bp
    from tracker.reports.views import bp as reports_bp
    from tracker.review.views import bp as review_bp

    for blueprint in (
        auth_bp,
        programmes_bp,
        proposals_bp,
        review_bp,
        reports_bp,
        imports_bp,
        notifications_bp,
        questions_bp,
        projects_bp,
        identity_bp,
    ):
        app.register_blueprint(blueprint)


def _load_models() -> None:
    """Every model, so that the metadata (and the migrations' comparison) knows each table."""
    import tracker.core.generation
    import tracker.core.tally
    import tracker.identity.models
    import tracker.projects.models
    import tracker.questions.models  # noqa: F401


def _load_rules() -> None:
    """The workflows' guards, effects and listeners (registered in tracker.workflow.builtins)."""
    from tracker.workflow.builtins import register_all

    register_all()


def _load_workflows(app: Flask) -> None:
    """The shipped workflows and the installation's own (TRACKER_WORKFLOWS_DIR)."""
    from flask_babel import get_locale

    from tracker.workflow import definitions

    def language() -> str:
        if not has_app_context():
            return "en"
        locale = get_locale()  # the request's, or the one forced for an e-mail's recipient
        return locale.language if locale else "en"

    definitions.set_language(language)
    registry = definitions.load_registry(app.config.get("WORKFLOWS_DIR"))
    _refuse_stranding(app, registry)


def _refuse_stranding(app: Flask, registry) -> None:
    """Refuse to start with a workflow that lost a state its calls' proposals are in."""
    from tracker.extensions import db
    from tracker.workflow.operations import stranded_states

    with app.app_context():
        try:
            problems = {
                key: stranded for key, w in registry.items() if (stranded := stranded_states(w))
            }
        except sa.exc.SQLAlchemyError:  # a database not created or migrated yet
            db.session.rollback()
            return
        finally:
            db.session.remove()
            # No connection stays open from this check (the app may never serve a request).
            db.engine.dispose()
    if problems:
        raise RuntimeError(
            "workflows would strand proposals (a state they are in is gone; give a changed "
            f"workflow a new key): {problems}"
        )


def _register_request_hooks(app: Flask) -> None:
    from tracker.core.pagecache import serve_kept

    @app.before_request
    def make_session_permanent():
        session.permanent = True

    app.before_request(serve_kept)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
            "form-action 'self'",
        )
        # (A kept page says so itself: asking who is signed in would load them.)
        if "Cache-Control" not in response.headers and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        if app.config.get("HSTS_SECONDS"):
            response.headers.setdefault(
                "Strict-Transport-Security",
                f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains",
            )
        return response

    @app.teardown_appcontext
    def rollback_unfinished(exc):
        # Whatever a request did not commit is discarded, never half-written.
        from tracker.extensions import db

        if exc is not None:
            db.session.rollback()


def _register_error_handlers(app: Flask) -> None:
    from tracker.extensions import db

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if not current_user.is_authenticated and request.method == "POST":
            return _to_sign_in()
        return render_template(
            "errors/error.html",
            code=400,
            title=_("The form could not be accepted"),
            message=_(
                "The form's security token is missing or invalid. Reload the "
                "page and try again; nothing was saved."
            ),
        ), 400

    def simple(code, title, message):
        def handler(error):
            db.session.rollback()
            return render_template(
                "errors/error.html", code=code, title=title, message=message
            ), code

        return handler

    app.register_error_handler(
        400, simple(400, _lazy("Bad request"), _lazy("The request could not be understood."))
    )
    app.register_error_handler(
        403,
        simple(403, _lazy("Not allowed"), _lazy("Your role does not give access to this page.")),
    )
    app.register_error_handler(
        404,
        simple(
            404,
            _lazy("Not found"),
            _lazy("There is nothing at this address, or it is not yours to see."),
        ),
    )
    app.register_error_handler(
        405,
        simple(
            405, _lazy("Not allowed"), _lazy("This address does not take that kind of request.")
        ),
    )
    too_large = simple(
        413,
        _lazy("File too large"),
        _lazy("What was sent is larger than the documents may be in all. Nothing was saved."),
    )

    @app.errorhandler(413)
    def request_too_large(error):
        # The body is not read, so the form cannot come back filled in; the page of the form
        # does, with the limit said next to where the files are chosen.
        db.session.rollback()
        if request.method == "POST" and request.endpoint in UPLOAD_ENDPOINTS:
            limit = app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)
            flash(
                _(
                    "The files sent were too large together, so nothing was saved. Each "
                    "document may have at most %(mb)s MB; send them one at a time if needed.",
                    mb=limit,
                ),
                "danger",
            )
            return redirect(request.path, code=303)
        return too_large(error)

    app.register_error_handler(
        429,
        simple(
            429,
            _lazy("Too many attempts"),
            _lazy("Too many attempts in a short time. Wait a minute and try again."),
        ),
    )
    app.register_error_handler(
        500,
        simple(
            500,
            _lazy("Something went wrong"),
            _lazy("The error was logged and nothing was saved. Please try again."),
        ),
    )


def _register_template_helpers(app: Flask) -> None:
    from tracker.core import templating

    templating.register(app)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite enforces foreign keys, uses a write-ahead log and waits for locks."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
