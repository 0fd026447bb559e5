"""The data's generation moves after every committed change that a page shows, and the queue's
cached list follows it: never an old page after a change, the same page without its queries
while nothing changed."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories as f
from tests.review.test_views import count_queries
from tests.web import Web, text
from tracker.core import generation
from tracker.extensions import db
from tracker.proposals.models import Proposal


def now(app):
    """The generation, made first if the database has none yet (an emptied one has none)."""
    with app.app_context():
        if generation.current(db.session) is None:
            generation.advance(db.engine)
        return generation.current(db.session)


def test_a_commit_that_wrote_moves_the_generation_and_nothing_else_does(app):
    before = now(app)
    with app.app_context():
        f.applicant()
        db.session.commit()
    after_write = now(app)
    assert after_write[0] == before[0] and after_write[1] == before[1] + 1
    with app.app_context():
        f.staff("reviewer")
        db.session.rollback()  # written, then taken back
        db.session.commit()
        db.session.execute(sa.select(Proposal.id)).all()  # a read
        db.session.commit()
    assert now(app) == after_write
    with app.app_context():
        from tracker.auth.models import User

        db.session.execute(sa.update(User).values(name="Anna Renamed"))  # DML through the session
        db.session.commit()
    assert now(app)[1] == after_write[1] + 1


def test_a_database_emptied_starts_a_new_epoch(app):
    with app.app_context():
        db.session.execute(sa.delete(generation.DataGeneration))
        db.session.commit()  # this DML moves it again: the row is made anew
        epoch, number = generation.current(db.session)
    assert number == 1 and len(epoch) == 32


def test_the_queue_shows_a_change_at_once_and_reuses_the_list_until_then(app):
    with app.app_context():
        call = f.call()
        owner = f.applicant()
        ids = [f.submitted(call, owner).id for _ in range(3)]
        f.staff("reviewer")
        db.session.commit()
    web = Web(app.test_client())
    web.login("reviewer@agency.lu")
    first = text(web.get("/review/proposals"))
    with count_queries(app) as again:
        second = text(web.get("/review/proposals"))
    assert second == first
    with count_queries(app) as fresh:
        web.get("/review/proposals?sort=title")  # another list: made afresh
    assert again["n"] < fresh["n"] - 4, (again, fresh)
    with app.app_context():
        db.session.get(Proposal, ids[0]).title = "Cold rooms renamed"
        db.session.commit()
    assert "Cold rooms renamed" in text(web.get("/review/proposals"))


def test_the_import_moves_the_generation(app):
    """The second file names a programme, a call and a company that exist: its rows go by COPY
    (or executemany) alone, which the ORM does not see, and still move the number."""
    from tracker.imports import operations as import_ops

    header = (
        "reference,programme,call,title,lead_organisation,lead_country,partner_organisation,"
        "partner_country,sector,total_budget_eur,requested_eur,submitted_on,outcome,decided_on,"
        "granted_eur,contracted_on,hrdd_category\n"
    )

    def load(reference):
        row = (
            f"{reference},GEN,Call 2019,Imported,Lead S.A.,LU,Partner,VN,ict,100000,50000,"
            "2019-03-01,submitted,,,,\n"
        )
        with app.app_context():
            plan = import_ops.plan_import(header + row)
            assert plan.ok, plan.errors
            import_ops.execute(plan)
            db.session.commit()

    load("GEN-2019-001")
    before = now(app)
    load("GEN-2019-002")
    assert now(app)[1] == before[1] + 1


def test_a_kept_page_is_never_anyone_elses_and_never_repeats_a_message(app):
    with app.app_context():
        call = f.call()
        owner = f.applicant()
        proposal = f.submitted(call, owner)
        f.staff("reviewer")
        f.staff("admin")
        db.session.commit()
        url = f"/review/proposals/{proposal.id}"
    reviewer = Web(app.test_client())
    reviewer.login("reviewer@agency.lu")
    admin = Web(app.test_client())
    admin.login("admin@agency.lu")
    for _ in range(2):
        assert "Reviewer" in text(reviewer.get(url)) and "Admin" in text(admin.get(url))
        assert "Admin" not in text(reviewer.get(url)).split("</nav>")[0]
    page = text(reviewer.get(url))
    version = page.split('name="version" value="')[1].split('"')[0]
    done = reviewer.post(f"{url}/transitions/start_screening", {"version": version})
    assert done.status_code == 302
    after = text(reviewer.get(url))
    assert "Done: the proposal is now" in after  # the message, once
    assert "Done: the proposal is now" not in text(reviewer.get(url))
    assert "Done: the proposal is now" not in text(reviewer.get(url))


def test_with_the_page_cache_off_every_view_is_made_afresh(app):
    app.config["PAGE_CACHE"] = False
    with app.app_context():
        f.submitted(f.call(), f.applicant())
        f.staff("reviewer")
        db.session.commit()
    web = Web(app.test_client())
    web.login("reviewer@agency.lu")
    web.get("/review/proposals")
    counts = []
    for _ in range(2):
        with count_queries(app) as counter:
            web.get("/review/proposals")
        counts.append(counter["n"])
    assert counts[0] == counts[1] > 2
