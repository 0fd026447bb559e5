"""Migrations build the schema on empty SQLite and PostgreSQL databases and agree with the models."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from config import TestingConfig
from tests.conftest import PG_SKIP_REASON, PG_URL
from tracker import create_app
from tracker.core.search import include_object
from tracker.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    name = f"tracker_migrations_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_to_head_matches_the_models_and_downgrades_cleanly(empty_database_url, tmp_path):
    app = create_app(
        TestingConfig,
        {"SQLALCHEMY_DATABASE_URI": empty_database_url, "UPLOAD_FOLDER": str(tmp_path)},
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            differences = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(connection).get_table_names())
        assert differences == [], f"models and migrations disagree: {differences}"
        assert {"proposals", "status_changes", "users", "calls"} <= tables

        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()


def test_the_history_table_refuses_updates_and_deletes(app):
    from tests import factories as f

    with app.app_context():
        proposal = f.draft(f.call(), f.applicant())
        db.session.commit()
        for statement in (
            "UPDATE status_changes SET comment = 'changed'",
            "DELETE FROM status_changes",
        ):
            with (
                pytest.raises(sa.exc.DatabaseError, match="append-only"),
                db.engine.begin() as connection,
            ):
                connection.execute(sa.text(statement))
        db.session.refresh(proposal)
        assert proposal.status == "draft"
