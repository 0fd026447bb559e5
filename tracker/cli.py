"""The ``tracker`` command line: a Flask CLI group built on ``create_app``.

Public contract (DESIGN section 6): ``tracker db upgrade``, ``tracker users create``,
``tracker import proposals FILE.csv``, ``tracker report selections ...``; also
``tracker history verify`` and ``tracker demo load``.
"""

from __future__ import annotations

import logging
import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from tracker.auth.models import Role


def _create_app():
    from tracker import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def cli():
    """Partnership-proposal tracker."""


def main() -> None:
    cli.main(prog_name="tracker")


def register_commands(app: Flask) -> None:
    """Attach the command groups to the app (so ``flask --app tracker`` has them too)."""
    from tracker.imports.cli import import_group
    from tracker.reports.cli import report

    for command in (users, history, demo, import_group, report):
        if command.name not in app.cli.commands:
            app.cli.add_command(command)


# --- users -----------------------------------------------------------------------------------


@click.group()
def users():
    """Manage user accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.option(
    "--organisation",
    default=None,
    help="Applicants: the name of a new organisation. A name another organisation has is "
    "refused: join that one with --organisation-id, or add --new-organisation.",
)
@click.option(
    "--organisation-id", type=int, default=None, help="Applicants: join this existing organisation."
)
@click.option(
    "--new-organisation",
    is_flag=True,
    help="Create a separate organisation even though one has the same name.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(
    email, name, roles, organisation, organisation_id, new_organisation, password_stdin
):
    """Create an account; without --password-stdin a one-time password is printed."""
    from tracker.auth.operations import AccountError, create_user
    from tracker.extensions import db

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user, generated = create_user(
            email=email,
            name=name,
            roles=roles,
            password=password,
            organisation_name=organisation,
            organisation_id=organisation_id,
            allow_duplicate_name=new_organisation,
        )
    except AccountError as error:
        db.session.rollback()
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Created {user.email} ({', '.join(sorted(r.value for r in user.roles))}).")
    if user.organisation is not None:
        click.echo(f"Organisation: {user.organisation.name} (no. {user.organisation.id}).")
    if generated:
        click.echo(f"One-time password: {generated}")
        click.echo("The user is asked to choose a new password at first sign-in.")


# --- history ---------------------------------------------------------------------------------


@click.group()
def history():
    """The tamper-evident status history."""


@history.command("verify")
@with_appcontext
def verify_history_command():
    """Recompute every proposal's hash chain; name the first broken row of each."""
    from tracker.workflow.history import verify_chains

    result = verify_chains()
    for link in result.broken:
        click.echo(
            f"BROKEN proposal {link.proposal_id}, row #{link.seq} (id {link.row_id}): {link.problem}",
            err=True,
        )
    if result.broken:
        click.echo(
            f"{len(result.broken)} broken chain(s) among {result.proposals} proposals.", err=True
        )
        sys.exit(1)
    click.echo(f"OK: {result.rows} history rows of {result.proposals} proposals verified.")


# --- demo data -------------------------------------------------------------------------------


@click.group()
def demo():
    """Demonstration data."""


@demo.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@with_appcontext
def load_demo_command(if_empty):
    """Load the demo programme, calls, accounts and history."""
    from tracker.demo import database_is_empty, load_demo

    if if_empty and not database_is_empty():
        click.echo("The database already has data; demo data not loaded.")
        return
    logging.getLogger("tracker").setLevel(logging.WARNING)  # not one line per demo transition
    load_demo()
    click.echo("Demo data loaded: the BPF programme with its history since 2016 and an open call.")


@demo.command("accounts")
def demo_accounts_command():
    """Print the demo sign-ins."""
    from tracker.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for email, _name, roles in DEMO_ACCOUNTS:
        click.echo(f"  {email:24} {', '.join(r.value for r in roles)}")
