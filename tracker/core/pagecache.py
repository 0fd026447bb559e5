"""Staff pages kept as rendered, per signed-in session, until the data changes.

A reviewer opens the queue, a proposal, the queue again: while nothing was written anywhere in
the tracker (tracker.core.generation), the second view is the first one's HTML. A page is kept
for one session (its token and its CSRF token: the forms on it stay valid), one address, one
language and one minute at most (what a page says about time, such as a deadline's countdown, is
never older than that), in the memory of the process that made it.

Never kept: anything but a successful GET of an HTML page; a page with a message waiting to be
shown (it would be shown once only) or with a form kept from an expired session; a page during
which the data changed; a page of someone not signed in.

A kept page is served before the person is loaded (:func:`serve_kept`): one query reads the
generation and whether the session in the cookie still stands (live, its person active, no
last use to write); the role checks passed when the page was made for that session, and any
change to roles or accounts moves the generation. Whatever else, the view runs as usual.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import suppress
from functools import wraps

from flask import Response, current_app, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user

from tracker.core import generation
from tracker.core.time import utcnow
from tracker.core.web import STASH_KEY

KEPT = 256
_PAGES: OrderedDict = OrderedDict()


def _key(token: str | None, state: tuple | None) -> tuple | None:
    if not token or state is None:
        return None
    return (
        state,
        token,
        session.get("csrf_token"),
        request.full_path,
        str(get_locale()),
        utcnow().strftime("%Y%m%d%H%M"),
    )


def _kept(key: tuple | None) -> bytes | None:
    """The page kept under this key, now the most recently used one."""
    body = _PAGES.get(key) if key is not None else None
    if body is not None:
        # (Dropped meanwhile by another thread of the development server: nothing to move.)
        with suppress(KeyError):
            _PAGES.move_to_end(key)
    return body


def _keeping() -> bool:
    return (
        request.method == "GET"
        and current_app.config["PAGE_CACHE"]
        and not session.get("_flashes")
        and not session.get(STASH_KEY)
    )


def _view_key() -> tuple | None:
    """The key of the page the view is making, for the person it was made for."""
    if not _keeping() or not current_user.is_authenticated:
        return None
    return _key(getattr(current_user, "session_token", None), generation.data_state())


def serve_kept():
    """Before the request is dispatched: the kept page of this address for this session, when
    there is one and the session still stands (see the module's note); else None, and the
    request goes on as usual (loading the person, checking roles, running the view)."""
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "keeps_page", False) or not _keeping():
        return None
    token = session.get("_user_id")
    if not _PAGES or not token:
        return None
    # Flask-Login's session protection, as it would run on loading the person ("basic": a
    # session seen from another address or browser is marked not fresh, and goes on).
    if current_app.login_manager._session_protection_failed():
        return None
    from tracker.auth.operations import session_stands

    found, stands = session_stands(token)
    state = generation.remember_state(found)
    body = _kept(_key(token, state)) if stands else None
    if body is None:
        return None
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def cached_page(view):
    """Keep the view's page as described above (put it under the role checks)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = _view_key()
        if key is None:
            return view(*args, **kwargs)
        body = _kept(key)
        if body is not None:
            return Response(body, mimetype="text/html")
        response = make_response(view(*args, **kwargs))
        # Kept under the address as it is now: the page may have made the session's CSRF
        # token. Not kept when the data changed during the view (a commit forgets the state).
        after = _view_key()
        if (
            after is not None
            and after[0] == key[0]
            and response.status_code == 200
            and response.mimetype == "text/html"
            and not response.is_streamed
        ):
            _PAGES[after] = response.get_data()
            while len(_PAGES) > KEPT:
                _PAGES.popitem(last=False)
        return response

    # Seen through the decorators above it (functools.wraps copies it): serve_kept looks for it.
    wrapped.keeps_page = True
    return wrapped
