"""Staff pages kept as rendered, per signed-in session, until the data changes.

A reviewer opens the queue, a proposal, the queue again: while nothing was written anywhere in
the tracker (tracker.core.generation), the second view is the first one's HTML. A page is kept
for one session (its token and its CSRF token: the forms on it stay valid), one address, one
language and one minute at most (what a page says about time, such as a deadline's countdown, is
never older than that), in the memory of the process that made it.

Never kept: anything but a successful GET of an HTML page; a page with a message waiting to be
shown (it would be shown once only) or with a form kept from an expired session; a page during
which the data changed; a page of someone not signed in.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import wraps

from flask import Response, current_app, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user

from tracker.core import generation
from tracker.core.time import utcnow
from tracker.core.web import STASH_KEY

KEPT = 256
_PAGES: OrderedDict = OrderedDict()


def _key() -> tuple | None:
    if request.method != "GET" or not current_app.config["PAGE_CACHE"]:
        return None
    if not current_user.is_authenticated:
        return None
    if session.get("_flashes") or session.get(STASH_KEY):
        return None
    token = getattr(current_user, "session_token", None)
    if not token:
        return None
    state = generation.data_state()
    if state is None:
        return None
    return (
        state,
        token,
        session.get("csrf_token"),
        request.full_path,
        str(get_locale()),
        utcnow().strftime("%Y%m%d%H%M"),
    )


def cached_page(view):
    """Keep the view's page as described above (put it under the role checks)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        body = _PAGES.get(key)
        if body is not None:
            _PAGES.move_to_end(key)
            return Response(body, mimetype="text/html")
        response = make_response(view(*args, **kwargs))
        # Kept under the address as it is now: the page may have made the session's CSRF
        # token. Not kept when the data changed during the view (a commit forgets the state).
        after = _key()
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

    return wrapped
