"""E-mail goes through the outbox: written with the change, delivered by the worker over a real
SMTP server on loopback, retried while the server is down, given up after the limit, never
sent twice by two workers, and written in the recipient's language."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.notifications.smtp import SmtpServer, html_of, text_of
from tests.web import Web, text
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.notifications import mail
from tracker.notifications.mail import Composed
from tracker.notifications.models import Notification, OutboxMessage, OutboxStatus
from tracker.notifications.worker import tick
from tracker.proposals.models import Proposal


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    app.config.update(server.settings(), MAIL_RETRY_SECONDS=60, MAIL_MAX_ATTEMPTS=3)
    yield server
    server.stop()


def _outbox(status=None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list(db.session.scalars(query))


def _message(user, subject="Hello", link="http://127.0.0.1:5000/proposals/1"):
    return mail.queue(
        user,
        "status_change",
        Composed(subject=subject, paragraphs=["First.", "Second."], link=link, link_label="Open"),
    )


def _due_now() -> None:
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()


def test_a_rolled_back_change_sends_nothing_and_a_committed_one_is_sent(ctx, smtp):
    people = f.team()
    proposal = f.submitted(f.call(), f.applicant())
    f.take(proposal, "start_screening", people["reviewer"])
    db.session.commit()
    proposal_id = proposal.id

    f.take(proposal, "request_information", people["reviewer"])
    db.session.flush()
    assert _outbox(), "the message is written in the same transaction as the change"
    db.session.rollback()
    assert _outbox() == []
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0

    proposal = db.session.get(Proposal, proposal_id)
    f.take(proposal, "request_information", people["reviewer"])
    db.session.commit()
    [queued] = _outbox(OutboxStatus.pending)
    assert queued.to_address == "anna@company.lu"

    assert tick("test") == 1
    [delivered] = smtp.to("anna@company.lu")
    assert "Your answer is needed" in delivered["Subject"]
    assert "Because of request_information." in text_of(delivered)
    assert f"/proposals/{proposal_id}" in text_of(delivered)
    assert f'href="http://127.0.0.1:5000/proposals/{proposal_id}"' in html_of(delivered)
    db.session.expire_all()
    assert _outbox(OutboxStatus.sent)[0].sent_at is not None


def test_internal_notes_never_reach_the_applicant(ctx, smtp):
    people = f.team()
    proposal = f.submitted(f.call(), f.applicant())
    f.take(proposal, "start_screening", people["reviewer"])
    db.session.commit()
    from tracker.workflow.operations import perform_transition

    perform_transition(
        proposal,
        "request_information",
        people["reviewer"],
        comment="Send the audited accounts of 2025.",
        note="The turnover looks inflated to me.",
    )
    db.session.commit()
    tick("test")
    bodies = [text_of(m) + html_of(m) for m in smtp.to("anna@company.lu")]
    assert any("audited accounts of 2025" in b for b in bodies)
    assert not any("inflated" in b for b in bodies)


def test_the_worker_retries_while_the_server_is_down_then_delivers(ctx, smtp):
    anna = f.applicant()
    _message(anna)
    db.session.commit()
    smtp.stop()

    assert tick("test") == 0
    [waiting] = _outbox()
    assert waiting.status == OutboxStatus.pending
    assert waiting.attempts == 1
    assert waiting.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert "could not be reached" in waiting.last_error

    assert tick("test") == 0, "not before its next attempt is due"
    smtp.start()
    _due_now()
    assert tick("test") == 1
    assert len(smtp.to("anna@company.lu")) == 1
    db.session.expire_all()
    assert _outbox()[0].status == OutboxStatus.sent


def test_the_wait_doubles_between_tries_and_the_message_fails_after_the_limit(ctx, smtp, app):
    anna = f.applicant()
    _message(anna)
    db.session.commit()
    smtp.refuse("550 5.1.1 Mailbox unavailable")

    waits = []
    for _ in range(app.config["MAIL_MAX_ATTEMPTS"]):
        before = utcnow()
        tick("test")
        db.session.expire_all()
        [message] = _outbox()
        waits.append((message.next_attempt_at - before).total_seconds())
        _due_now()
    assert message.status == OutboxStatus.failed
    assert message.attempts == 3
    assert "Mailbox unavailable" in message.last_error
    assert 59 <= waits[0] <= 62 and 119 <= waits[1] <= 122
    assert smtp.messages == []

    smtp.refuse(None)
    assert tick("test") == 0, "a failed message stays failed until someone sends it again"


def test_administrators_see_failed_messages_and_send_them_again(app, smtp):
    with app.app_context():
        f.staff("admin", "admin@agency.lu")
        anna = f.applicant()
        message = _message(anna, subject="Your proposal moved")
        message.status = OutboxStatus.failed
        message.attempts = 3
        message.last_error = "550 Mailbox unavailable"
        db.session.commit()
        message_id = message.id

    web = Web(app.test_client())
    web.login("admin@agency.lu")
    page = text(web.get("/notifications/outbox"))
    assert "Your proposal moved" in page and "550 Mailbox unavailable" in page
    assert web.post(f"/notifications/outbox/{message_id}/again").status_code == 302
    with app.app_context():
        again = db.session.get(OutboxMessage, message_id)
        assert again.status == OutboxStatus.pending and again.attempts == 0
        assert tick("test") == 1
    assert [m["Subject"] for m in smtp.to("anna@company.lu")] == ["Your proposal moved"]
    assert "Send again" not in text(web.get("/notifications/outbox"))

    applicant = Web(app.test_client())
    applicant.login("anna@company.lu")
    assert applicant.get("/notifications/outbox").status_code == 403
    assert applicant.post(f"/notifications/outbox/{message_id}/again").status_code == 403


def test_a_message_claimed_by_a_worker_that_died_is_sent_once_its_claim_lapses(ctx, smtp):
    anna = f.applicant()
    message = _message(anna)
    db.session.commit()
    message.status = OutboxStatus.sending
    message.locked_by = "a worker that was killed"
    message.locked_at = utcnow() - timedelta(minutes=2)
    db.session.commit()

    assert tick("test") == 0, "a recent claim is left to its worker"
    message.locked_at = utcnow() - mail.LEASE - timedelta(seconds=1)
    db.session.commit()
    assert tick("test") == 1
    assert len(smtp.to("anna@company.lu")) == 1


def test_two_workers_never_send_a_message_twice(app, smtp):
    with app.app_context():
        anna = f.applicant()
        for n in range(60):
            _message(anna, subject=f"Message {n}")
        db.session.commit()

    errors = []
    start = threading.Barrier(2)

    def work(name):
        try:
            with app.app_context():
                start.wait()
                while mail.deliver(name):
                    pass
                db.session.remove()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    subjects = [m["Subject"] for m in smtp.messages]
    assert len(subjects) == 60
    assert sorted(set(subjects)) == sorted(subjects), "no message went out twice"
    with app.app_context():
        assert {m.status for m in _outbox()} == {OutboxStatus.sent}


def test_without_a_mail_server_messages_are_written_to_the_instance_folder(ctx, app, tmp_path):
    app.config.update(MAIL_SERVER=None)
    app.instance_path = str(tmp_path / "instance")
    anna = f.applicant()
    _message(anna, subject="Readable on disk")
    db.session.commit()
    assert tick("test") == 1
    [written] = list((tmp_path / "instance" / "mail").glob("*.eml"))
    content = written.read_text()
    assert "Subject: Readable on disk" in content and "To: anna@company.lu" in content


@pytest.mark.parametrize(
    ("language", "greeting", "subject_word"),
    [
        ("en", "Dear Anna", "Your answer is needed"),
        ("fr", "Bonjour Anna", "Votre réponse est attendue"),
        ("de", "Guten Tag Anna", "Ihre Antwort wird benötigt"),
    ],
)
def test_messages_are_written_in_the_recipients_language(
    ctx, smtp, language, greeting, subject_word
):
    people = f.team()
    anna = f.applicant()
    anna.name = "Anna"
    anna.language = language
    proposal = f.submitted(f.call(), anna)
    f.take(proposal, "start_screening", people["reviewer"])
    f.take(proposal, "request_information", people["reviewer"])
    db.session.commit()
    tick("test")
    [delivered] = smtp.to("anna@company.lu")
    body = text_of(delivered)
    assert greeting in body
    assert subject_word in delivered["Subject"]
    assert "Partnership tracker" in body
