"""`tracker import proposals FILE.csv`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("import")
def import_group():
    """Import historical data."""


@import_group.command("proposals")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_proposals_command(path: Path):
    """Import proposals from a CSV file (all or nothing; importing it again changes nothing)."""
    from tracker.extensions import db
    from tracker.imports import operations as ops

    def progress(stage: str, count: int) -> None:
        click.echo(f"  {stage}: {count:,} rows", err=True)

    try:
        text = ops.decode(path.read_bytes())
    except FileNotFoundError:
        click.echo(f"Error: {path} does not exist.", err=True)
        sys.exit(1)
    except UnicodeDecodeError as error:
        click.echo(f"Error: {path} is not UTF-8 text (byte {error.start}).", err=True)
        sys.exit(1)
    except OSError as error:
        click.echo(f"Error: cannot read {path}: {error.strerror}.", err=True)
        sys.exit(1)
    click.echo(f"Reading {path} ...", err=True)
    plan = ops.plan_import(text, progress)
    if not plan.ok:
        for problem in plan.errors:
            click.echo(str(problem))
        click.echo(
            f"Nothing was imported: {len(plan.errors)} error(s) in {plan.rows_read} row(s).",
            err=True,
        )
        sys.exit(1)
    if not plan.create:
        click.echo(
            f"Nothing to do: all {len(plan.unchanged)} proposal(s) of this file are already in the "
            "tracker, unchanged."
        )
        return
    outcomes = ops.execute(plan, progress=progress)
    db.session.commit()
    summary = ", ".join(f"{n} {outcome}" for outcome, n in outcomes.items())
    click.echo(
        f"Imported {len(plan.create)} proposal(s) ({summary}); {len(plan.unchanged)} unchanged."
    )
    for code, year in plan.new_programmes.items():
        click.echo(f"New programme {code}, first year {year}.")
    for code, title in plan.new_calls:
        click.echo(f"New call {code}: {title}.")
