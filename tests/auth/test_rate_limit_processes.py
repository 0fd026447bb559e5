"""The failed sign-in limit holds across worker processes (gunicorn with four workers)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests import factories as f
from tracker.extensions import db

LIMIT = 5
ATTEMPTS = 24


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


class Browser:
    """One browser: its own cookies, a fresh connection per request (any worker may answer)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


@pytest.mark.parametrize("storage", ["tracker-sql://", "redis://127.0.0.1:6379"])
def test_failed_sign_ins_are_limited_across_four_workers(app, tmp_path, storage):
    if storage.startswith("redis") and not redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    if storage.startswith("redis") and app.database_kind != "sqlite":
        pytest.skip("the Redis counters do not depend on the database: run once, with SQLite")
    with app.app_context():
        f.applicant()
        db.session.commit()
    if storage.startswith("redis"):
        import redis

        client = redis.Redis.from_url(storage)
        for key in client.scan_iter("LIMITS:LIMITER/127.0.0.1/auth.login/*"):
            client.delete(key)  # a window left by an earlier run
        client.close()
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_CONFIG": "development",
        "TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACKER_INSTANCE_PATH": str(tmp_path / "instance"),
        "TRACKER_SECRET_KEY": secrets.token_hex(16),
        "TRACKER_HISTORY_KEY": secrets.token_hex(16),
        "TRACKER_LOGIN_RATE_LIMIT": f"{LIMIT} per minute",
        "TRACKER_RATELIMIT_STORAGE_URI": storage,
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                str(gunicorn),
                "--workers",
                "4",
                "--bind",
                f"127.0.0.1:{port}",
                "tracker:create_app()",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        browser = Browser(base)
        for _ in range(100):
            try:
                status, page = browser.get("/login")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:  # pragma: no cover - the server did not start
            pytest.fail(log.read_text()[-3000:])
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answers = [
            browser.post(
                "/login", {"csrf_token": token, "email": "anna@company.lu", "password": "wrong"}
            )
            for _ in range(ATTEMPTS)
        ]
    finally:
        server.terminate()
        server.wait(timeout=20)
    # Four workers, yet the limit is the limit: five failures answered, then refusals.
    assert answers.count(200) == LIMIT, answers
    assert answers.count(429) == ATTEMPTS - LIMIT, answers
