"""A small wrapper around Flask's test client: sign in, and post forms with their CSRF token."""

from __future__ import annotations

import re

from tests.factories import PASSWORD

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Web:
    def __init__(self, client):
        self.client = client

    def token(self) -> str:
        for path in ("/login", "/notifications/", "/account/two-factor"):
            response = self.client.get(path)
            if response.status_code == 200:
                match = TOKEN.search(response.get_data(as_text=True))
                if match:
                    return match.group(1)
        raise AssertionError("no page offered a CSRF token")

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, data=None, *, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        return self.client.post(path, data=data, **kwargs)

    def login(self, email, password=PASSWORD):
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    def logout(self):
        return self.post("/logout")


def text(response) -> str:
    return response.get_data(as_text=True)


def expire_sessions(app, email: str) -> None:
    """The person's sessions go idle past the limit on the server (their cookie stays)."""
    from datetime import timedelta

    import sqlalchemy as sa

    from tracker.auth.models import User, UserSession
    from tracker.core.time import utcnow
    from tracker.extensions import db

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        long_ago = utcnow() - app.config["SESSION_IDLE_LIMIT"] - timedelta(minutes=1)
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.user_id == user.id)
            .values(last_seen_at=long_ago)
        )
        db.session.commit()
