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

    for command in (users, history, demo, import_group, report, workflows_group, worker):
        if command.name not in app.cli.commands:
            app.cli.add_command(command)


# --- worker --------------------------------------------------------------------------------


@click.command("worker")
@click.option("--once", is_flag=True, help="Do one round (reminders, digests, sending), then stop.")
@click.option(
    "--interval", default=5.0, show_default=True, help="Seconds between rounds while running."
)
@with_appcontext
def worker(once: bool, interval: float):
    """Deliver the e-mail outbox and write reminders and digests, until stopped."""
    from flask import current_app

    from tracker.notifications.worker import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    where = current_app.config.get("MAIL_SERVER")
    target = f"{where}:{current_app.config['MAIL_PORT']}" if where else "files in instance/mail"
    click.echo(f"worker: delivering e-mail to {target}")
    run(once=once, interval=interval)


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
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.File("r"),
    default=None,
    help="Also prove that no chain was rewritten or cut since the checkpoints in this file.",
)
@with_appcontext
def verify_history_command(checkpoint_file):
    """Recompute every proposal's keyed hash chain; name the first broken row of each."""
    from tracker.workflow.history import read_checkpoints, verify_chains

    expected = read_checkpoints(checkpoint_file) if checkpoint_file else None
    result = verify_chains(checkpoints=expected)
    for link in result.broken:
        click.echo(
            f"BROKEN proposal {link.proposal_id}, row #{link.seq} (id {link.row_id}): {link.problem}",
            err=True,
        )
    for problem in result.checkpoint_problems:
        click.echo(f"CHECKPOINT {problem}", err=True)
    if not result.ok:
        click.echo(
            f"{len(result.broken)} broken chain(s) among {result.proposals} proposals"
            + (
                f", {len(result.checkpoint_problems)} checkpoint problem(s)"
                if expected is not None
                else ""
            )
            + ".",
            err=True,
        )
        sys.exit(1)
    message = f"OK: {result.rows} history rows of {result.proposals} proposals verified"
    if expected is not None:
        message += f", and {result.checkpoints} checkpoint(s) hold"
    click.echo(message + ".")


@history.command("checkpoint")
@click.option(
    "--output",
    default=None,
    help="Append the checkpoint to this file (default: instance/history-checkpoints.jsonl); "
    "'-' writes it to standard output, for an external log.",
)
@with_appcontext
def checkpoint_history_command(output):
    """Write the head of every chain, signed with the history key, outside the database."""
    from pathlib import Path

    from flask import current_app

    from tracker.workflow.history import checkpoint_line, make_checkpoint

    record = make_checkpoint()
    line = checkpoint_line(record)
    if output == "-":
        click.echo(line, nl=False)
        return
    path = Path(output) if output else Path(current_app.instance_path) / "history-checkpoints.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
    click.echo(f"Checkpoint of {len(record['chains'])} chains appended to {path}.", err=True)


@history.command("seal")
@with_appcontext
def seal_history_command():
    """Seal, under the history key, the chains written before keyed hashes (idempotent)."""
    from tracker.extensions import db
    from tracker.workflow.history import seal_unkeyed_chains

    sealed = seal_unkeyed_chains()
    db.session.commit()
    click.echo(f"{sealed} chain(s) sealed.")


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
    click.echo(
        "Demo data loaded: the BPF programme with its history since 2016 and an open call, and "
        "the Smart Green Business Centre (a rolling challenge-fund call with Korea)."
    )


@demo.command("accounts")
def demo_accounts_command():
    """Print the demo sign-ins."""
    from tracker.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for email, _name, roles in DEMO_ACCOUNTS:
        click.echo(f"  {email:24} {', '.join(r.value for r in roles)}")


# --- workflows -------------------------------------------------------------------------------


@click.group("workflows")
def workflows_group():
    """The workflows calls run under (data files; see docs/workflows.md)."""


@workflows_group.command("list")
@with_appcontext
def list_workflows_command():
    """The installed workflows: key, states, transitions, where each comes from."""
    from tracker.workflow.definitions import workflows

    for key, workflow in sorted(workflows().items()):
        stages = "two stages" if workflow.two_stage else "one stage"
        click.echo(
            f"{key:24} {len(workflow.states):2} states, {len(workflow.transitions):2} transitions, "
            f"{stages}  {workflow.label['en']}  ({workflow.source})"
        )


@workflows_group.command("show")
@click.argument("key")
@with_appcontext
def show_workflow_command(key):
    """Print a workflow as a text diagram: each state and the ways out of it."""
    from tracker.workflow.definitions import workflows
    from tracker.workflow.diagram import text_diagram

    workflow = workflows().get(key)
    if workflow is None:
        click.echo(f"Error: no workflow {key!r} (tracker workflows list).", err=True)
        sys.exit(1)
    click.echo(text_diagram(workflow), nl=False)


@workflows_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def check_workflow_command(path):
    """Check a workflow file: every problem with its line (exit status 1 if any)."""
    from pathlib import Path

    from tracker.workflow.definitions import vocabulary
    from tracker.workflow.loader import Problem, build, check_text, parse
    from tracker.workflow.operations import stranded_states

    text = Path(path).read_text(encoding="utf-8")
    problems = check_text(text, vocabulary())
    if not problems:
        data, lines, _ = parse(text)
        workflow = build(data)
        for state, count in sorted(stranded_states(workflow).items()):
            problems.append(
                Problem(
                    lines.get(("key",), 1),
                    f"{count} proposal(s) of calls using “{workflow.key}” are in state “{state}”, "
                    "which this file no longer has: give the new version a new key",
                )
            )
    for problem in problems:
        click.echo(f"{path}:{problem.line}: {problem.message}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s).", err=True)
        sys.exit(1)
    click.echo(f"{path}: OK")
