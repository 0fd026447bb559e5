"""Printable PDFs of what companies submitted: one version, or a selection meeting's reading pack.

The same print template serves both (``proposals/submission_document.html``); the PDFs are tagged
(PDF/UA-1) like the yearly report.
"""

from __future__ import annotations

from flask import render_template

from tracker.proposals import operations as ops


def submission_pdf(proposal, submission) -> bytes:
    """One submitted version exactly as it was sent, with its receipt's checksum."""
    html = render_template(
        "proposals/submission_document.html",
        entries=[_entry(proposal, submission)],
        title=f"{proposal.display_reference} · {submission.stage.title}",
    )
    return _pdf(html)


def reading_pack_pdf(call, ranking, scores_of) -> bytes:
    """Every proposal before the committee in a call, in ranking order, each with its mean score,
    the scores' spread and, where the reader may see them, every reviewer's total, then the
    latest version submitted."""
    entries = []
    for position, row in enumerate(ranking, start=1):
        kept = ops.submissions_of(row.proposal)
        latest = kept[-1] if kept else None
        entries.append(
            _entry(row.proposal, latest, rank=position, row=row, scores=scores_of(row.proposal))
        )
    html = render_template(
        "proposals/submission_document.html",
        entries=entries,
        title=f"{call.programme.code} · {call.title}",
        pack=True,
    )
    return _pdf(html)


def _entry(proposal, submission, **extra) -> dict:
    return {
        "proposal": proposal,
        "submission": submission,
        "content": ops.flatten_content(submission.content) if submission else {},
        **extra,
    }


def _pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
