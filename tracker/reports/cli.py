"""`tracker report selections ...` (the yearly report) and `tracker report portfolio ...`."""

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
    if (path := _write(content, output)) is not None:
        click.echo(f"{figures.headline} Written to {path} ({fmt}).", err=True)


def _write(content: bytes, output: str) -> Path | None:
    """Write to the file named, or to standard output for '-'; the file's path, or None."""
    if output == "-":
        sys.stdout.write(content.decode("utf-8"))
        sys.stdout.flush()
        return None
    path = Path(output)
    try:
        path.write_bytes(content)
    except OSError as error:
        click.echo(f"Error: cannot write {path}: {error.strerror}.", err=True)
        sys.exit(1)
    return path


@report.command("portfolio")
@click.option("--programme", required=True, help="The programme's code, such as BPF.")
@click.option("--as-of", "as_of", default=None, help="The day (YYYY-MM-DD); today by default.")
@click.option("--format", "fmt", required=True, type=click.Choice(["json", "csv", "xlsx"]))
@click.option(
    "--output", required=True, help="The file to write; '-' writes csv or json to standard output."
)
@with_appcontext
def portfolio_command(programme, as_of, fmt, output):
    """Every signed project of a programme: granted, paid, remaining, what is due or overdue."""
    import json
    from datetime import date

    from tracker.projects import exports as project_exports
    from tracker.projects.operations import portfolio, portfolio_json
    from tracker.reports.operations import ReportError, programme_by_code

    if output == "-" and fmt == "xlsx":
        click.echo("Error: xlsx cannot be written to standard output; give a file.", err=True)
        sys.exit(1)
    day = None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            click.echo(f"Error: --as-of must be a date as YYYY-MM-DD, not “{as_of}”.", err=True)
            sys.exit(1)
    try:
        found = programme_by_code(programme)
    except ReportError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    result = portfolio(programme_ids={found.id}, as_of=day, programme_code=found.code)
    if fmt == "json":
        content = (json.dumps(portfolio_json(result), ensure_ascii=False, indent=2) + "\n").encode()
    elif fmt == "csv":
        lines = project_exports.as_csv(project_exports.portfolio_columns(), result.lines)
        content = "".join(lines).encode("utf-8")
    else:
        content = project_exports.as_xlsx(
            "Portfolio", project_exports.portfolio_columns(), result.lines
        )
    if (path := _write(content, output)) is None:
        return
    click.echo(
        f"{len(result.lines)} projects of {found.code} as of {result.as_of.isoformat()}: "
        f"{result.paid:.2f} paid of {result.granted:.2f}. Written to {path} ({fmt}).",
        err=True,
    )
