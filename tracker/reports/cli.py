"""`tracker report selections --programme CODE --year YEAR --format FORMAT --output FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("report")
def report():
    """Produce reports."""


@report.command("selections")
@click.option("--programme", required=True, help="The programme's code, such as BPF.")
@click.option("--year", required=True, type=int)
@click.option(
    "--format", "fmt", required=True, type=click.Choice(["html", "csv", "xlsx", "pdf", "json"])
)
@click.option(
    "--output",
    required=True,
    help="The file to write; '-' writes csv, json or html to standard output.",
)
@with_appcontext
def selections_command(programme, year, fmt, output):
    """The yearly selection report of a programme."""
    from tracker.reports import exports
    from tracker.reports.operations import ReportError, selection_report

    if output == "-" and fmt not in exports.TEXT_FORMATS:
        click.echo(
            f"Error: {fmt} cannot be written to standard output; give a file with --output.",
            err=True,
        )
        sys.exit(1)
    try:
        figures = selection_report(programme, year)
        content = exports.render(figures, fmt)
    except ReportError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    if output == "-":
        sys.stdout.write(content.decode("utf-8"))
        sys.stdout.flush()
        return
    path = Path(output)
    try:
        path.write_bytes(content)
    except OSError as error:
        click.echo(f"Error: cannot write {path}: {error.strerror}.", err=True)
        sys.exit(1)
    click.echo(f"{figures.headline} Written to {path} ({fmt}).", err=True)
