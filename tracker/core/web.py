"""Request-side helpers shared by the blueprints: access checks, safe redirects, the stash."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, request, session
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from tracker.extensions import db


def roles_required(*roles):
    """Signed in, and holding one of these roles (administrators pass everywhere staff do)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from tracker.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles, "admin"):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def applicant_required(view):
    """Signed in as an applicant of an organisation."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        from tracker.extensions import login_manager

        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_applicant or current_user.organisation_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def safe_next(target: str | None, default: str) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


STASH_KEY = "form_stash"


def restored_formdata() -> MultiDict | None:
    """What the person typed before their session expired, if it was posted to this page."""
    from tracker.auth.operations import take_stash

    token = session.get(STASH_KEY)
    if not token or not current_user.is_authenticated:
        return None
    items = take_stash(token, request.path, current_user)
    if items is None:
        return None
    session.pop(STASH_KEY, None)
    db.session.commit()
    return MultiDict(items)


def read_once(key: tuple, load):
    """What a page asks several times (a call's questions once per section of the form, a
    proposal's scores for the panel and for the guards) is read once per GET request; a
    request that writes always reads afresh. Returns a new list each time."""
    from flask import g, has_request_context, request

    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return list(load())
    cache = g.setdefault("read_once", {})
    if key not in cache:
        cache[key] = list(load())
    return list(cache[key])
