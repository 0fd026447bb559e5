"""Fixtures: every database test runs on SQLite and, when configured, again on PostgreSQL.

``TRACKER_TEST_DATABASE_URL`` (a ``postgresql+psycopg://`` URL, set by ``.ci/run``) turns the
PostgreSQL runs on; without it they are skipped with the reason shown in the summary.
The schema is built once per run by the migrations (never ``create_all``); each test then
gets a clean copy (SQLite) or truncated tables (PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import TestingConfig
from tracker import create_app
from tracker.extensions import db

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
PG_SKIP_REASON = "PostgreSQL run skipped: TRACKER_TEST_DATABASE_URL is not set (.ci/run sets it)"


def migrate_to_head(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(
        TestingConfig, {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(instance / "up")}
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()


def worker_database_url(url: str) -> str:
    """Each pytest-xdist worker gets its own PostgreSQL database beside the one configured."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgresql_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


class SqliteDatabase:
    kind = "sqlite"

    def __init__(self, template: Path):
        self.template = template

    def fresh_url(self, directory: Path) -> str:
        target = directory / "tracker.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"


class PostgresDatabase:
    kind = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self.engine = sa.create_engine(url)

    def fresh_url(self, directory: Path) -> str:
        with self.engine.begin() as connection:
            tables = [
                row[0]
                for row in connection.execute(
                    sa.text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename NOT IN ('alembic_version', 'sectors')"
                    )
                )
            ]
            if tables:
                # The history refuses TRUNCATE (a trigger); the test set-up, as superuser,
                # skips triggers for this one statement.
                connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
                connection.execute(
                    sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
                )
            connection.execute(sa.text("DELETE FROM sectors WHERE NOT built_in"))
            connection.execute(sa.text("UPDATE sectors SET active = TRUE"))
        return self.url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    """A migrated database of one kind, shared by the tests of this run."""
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip(PG_SKIP_REASON)
        url = worker_database_url(PG_URL)
        reset_postgresql_schema(url)
        migrate_to_head(url, tmp_path_factory.mktemp("pg-instance"))
        database = PostgresDatabase(url)
        yield database
        database.engine.dispose()
        return
    directory = tmp_path_factory.mktemp("sqlite-template")
    template = directory / "template.db"
    migrate_to_head(f"sqlite:///{template}", directory)
    yield SqliteDatabase(template)


@pytest.fixture
def app(database, tmp_path):
    """An app on a clean database. No app context is pushed: requests get their own."""
    url = database.fresh_url(tmp_path)
    application = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "UPLOAD_MAX_BYTES": 1024 * 1024,
            "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        },
    )
    application.database_kind = database.kind
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(app):
    """Another app on the same database with other settings; its connections are closed after."""
    made = []

    def build(**overrides):
        settings = {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
            **overrides,
        }
        other = create_app(TestingConfig, settings)
        made.append(other)
        return other

    yield build
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def ctx(app) -> Iterator:
    """An app context for tests that call operations directly (not through the test client)."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
