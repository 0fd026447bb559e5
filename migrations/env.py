"""Alembic environment for Flask-Migrate: the app's engine and metadata."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

db = current_app.extensions["migrate"].db


def target_metadata():
    return db.metadata


def include_object(obj, name, type_, reflected, compare_to):
    from tracker.core.search import include_object as ours

    return ours(obj, name, type_, reflected, compare_to)


def run_migrations_offline():
    context.configure(
        url=str(db.engine.url).replace("%", "%%"),
        target_metadata=target_metadata(),
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("include_object", include_object)

    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logging.getLogger("alembic.env").info("No changes in schema detected.")

    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it and dropping the old one; with foreign keys
            # on, dropping a parent table would delete (or refuse) its children's rows. They
            # are off during the migration (outside any transaction, where the pragma works)
            # and checked when it is done.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata(), **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if problems:
                raise RuntimeError(f"the migration broke foreign keys: {problems[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
