"""Every page of the queue, read from the start or from the end, is that slice of the order."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests import factories as f
from tracker.extensions import db
from tracker.review import queue


@pytest.fixture
def nine(ctx):
    """Nine submitted proposals with titles and amounts that tie, and one amount unknown."""
    people = f.team()
    owner = f.applicant()
    call = f.call()
    titles = ["Beta", "Alpha", "Beta", "Gamma", "Alpha", "Delta", "Beta", "Alpha", "Epsilon"]
    for number, title in enumerate(titles):
        proposal = f.bring_to("submitted", call, owner, people)
        proposal.title = title
        proposal.requested_eur = None if number == 4 else Decimal(100_000 + 10_000 * (number % 3))
    db.session.commit()
    return people["reviewer"]


@pytest.mark.parametrize("sort", sorted(queue.SORTS))
@pytest.mark.parametrize("desc", [False, True])
def test_pages_read_from_either_end_are_slices_of_one_order(nine, sort, desc):
    everything = queue.QueueFilter(viewer=nine, sort=sort, desc=desc)
    expected = list(db.session.scalars(queue._ordered(sa.select(queue.Proposal.id), everything)))
    assert len(expected) == 9
    for per_page in (2, 4):
        pages = []
        for page in range(1, 9 // per_page + 2):
            f_ = queue.QueueFilter(viewer=nine, sort=sort, desc=desc, page=page, per_page=per_page)
            pages += [proposal.id for proposal, _mean in queue.load_page(f_).rows]
        assert pages == expected, (per_page, sort, desc)
