"""A call's own questions: every type saved and checked, required, conditional, kept as answered."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.extensions import db
from tracker.proposals.models import Proposal, Submission
from tracker.proposals.operations import content_checksum, submissions_of
from tracker.questions import operations as qops
from tracker.questions.models import Answer, Question

CHOICES = [
    {"value": "solar", "label": {"en": "Solar", "fr": "Solaire", "de": "Solar"}},
    {"value": "wind", "label": {"en": "Wind", "fr": "Éolien", "de": "Wind"}},
    {"value": "storage", "label": {"en": "Storage", "fr": "Stockage", "de": "Speicher"}},
]

QUESTIONS = [
    # (key after saving, section, kind, settings, required)
    ("company_share", "lead", "percent", {}, True),
    ("green_model", "project", "long_text", {"max_words": 10}, True),
    ("short_name", "project", "short_text", {"max_length": 12}, False),
    ("emissions", "project", "integer", {"minimum": 0, "maximum": 1000}, False),
    ("co_investment", "budget", "amount", {"maximum": 500000}, False),
    ("pilot_start", "project", "date", {}, False),
    ("road_haulage", "lead", "yes_no", {}, True),
    ("trucks", "lead", "integer", {}, True),  # shown only for road haulage
    ("technology", "project", "choice", {"choices": CHOICES}, True),
    ("components", "project", "choices", {"choices": CHOICES}, False),
    ("korean_city", "project", "country", {"countries": ["KR", "JP"]}, False),
    ("markets", "project", "countries", {}, False),
    ("partner_letter", "project", "file", {"file_types": ["pdf"]}, False),
]


def build(call, admin):
    made = {}
    for key, section, kind, settings, required in QUESTIONS:
        condition = {"question": "road_haulage", "values": ["yes"]} if key == "trucks" else None
        question = qops.save_question(
            call,
            None,
            {
                "label": {"en": key.replace("_", " ").capitalize(), "fr": f"FR {key}"},
                "help": {"en": f"About {key}."},
                "kind": kind,
                "section": section,
                "required": required,
                "settings": settings,
                "condition": condition,
            },
            admin,
        )
        made[key] = question
    return made


@pytest.fixture
def setup(app):
    with app.app_context():
        people = f.team()
        call = f.call()
        f.clause()
        questions = build(call, people["admin"])
        owner = f.applicant()
        proposal = f.fill(f.draft(call, owner), owner)
        db.session.commit()
        assert [q.key for q in questions.values()] == [k for k, *_ in QUESTIONS]
        return {"call": call.id, "proposal": proposal.id}


def version(app, proposal_id):
    with app.app_context():
        return db.session.get(Proposal, proposal_id).version


def answers(app, proposal_id) -> dict[str, str]:
    with app.app_context():
        return dict(
            db.session.execute(
                sa.select(Question.key, Answer.value)
                .join(Answer, Answer.question_id == Question.id)
                .where(Answer.proposal_id == proposal_id)
            ).all()
        )


def post(web, app, proposal_id, section, data, shown=None, files=None):
    payload = {"version": version(app, proposal_id), **data}
    payload["questions_shown"] = shown or [k for k, s, *_ in QUESTIONS if s == section]
    kwargs = {}
    if files:
        payload.update(files)
        kwargs["content_type"] = "multipart/form-data"
    return web.post(f"/proposals/{proposal_id}/sections/{section}", payload, **kwargs)


def test_each_type_is_saved_as_canonical_text(app, setup):
    web = Web(app.test_client())
    web.login("anna@company.lu")
    pid = setup["proposal"]
    assert (
        post(
            web,
            app,
            pid,
            "lead",
            {"q_company_share": "12,5", "q_road_haulage": "yes", "q_trucks": "1,200"},
        ).status_code
        == 302
    )
    project = {
        "q_green_model": "Solar cold rooms replace diesel.",
        "q_short_name": "ColdSun",
        "q_emissions": "450",
        "q_pilot_start": "01/02/2027",
        "q_technology": "solar",
        "q_components": ["storage", "solar"],
        "q_korean_city": "KR",
        "q_markets": ["VN", "SN"],
    }
    response = post(
        web,
        app,
        pid,
        "project",
        project,
        files={"q_partner_letter": (io.BytesIO(f.PDF_BYTES), "letter.pdf")},
    )
    assert response.status_code == 302, text(response)[:2000]
    assert post(web, app, pid, "budget", {"q_co_investment": "150 000"}).status_code == 302
    stored = answers(app, pid)
    assert stored["company_share"] == "12.50"
    assert stored["trucks"] == "1200"
    assert stored["pilot_start"] == "2027-02-01"
    assert stored["components"] == '["solar", "storage"]'
    assert stored["markets"] == '["SN", "VN"]'
    assert stored["co_investment"] == "150000.00"
    assert stored["partner_letter"].isdigit()
    # Shown back as typed the locale's way.
    page = text(web.get(f"/proposals/{pid}/sections/project"))
    assert "Solar cold rooms replace diesel." in page and 'value="ColdSun"' in page
    assert "Uploaded: letter.pdf" in page


@pytest.mark.parametrize(
    ("section", "field", "typed", "message"),
    [
        (
            "project",
            "q_green_model",
            "one two three four five six seven eight nine ten eleven",
            "At most 10 words",
        ),
        ("project", "q_short_name", "A name far too long", "At most 12 characters"),
        ("project", "q_emissions", "1001", "Number must be between 0 and 1000"),
        ("project", "q_emissions", "1e27", "Use digits only"),
        ("lead", "q_company_share", "NaN", "Use digits only"),
        ("lead", "q_company_share", "101", "At most 100"),
        ("budget", "q_co_investment", "600000", "Number must be at most 500000"),
        ("project", "q_pilot_start", "13/13/2027", "day, month and year"),
        ("project", "q_technology", "nuclear", "Not a valid choice"),
        ("project", "q_korean_city", "FR", "Not a valid choice"),
        ("lead", "q_road_haulage", "maybe", "Not a valid choice"),
    ],
)
def test_bad_answers_are_named_at_their_question_and_kept(
    app, setup, section, field, typed, message
):
    web = Web(app.test_client())
    web.login("anna@company.lu")
    before = answers(app, setup["proposal"])
    response = post(web, app, setup["proposal"], section, {field: typed})
    assert response.status_code == 422
    page = text(response)
    assert message in page
    if field not in ("q_technology", "q_korean_city", "q_road_haulage"):  # a list shows its options
        assert typed in page  # what was typed is shown again
    assert answers(app, setup["proposal"]) == before


def test_a_document_of_the_wrong_type_is_refused_at_its_question(app, setup):
    web = Web(app.test_client())
    web.login("anna@company.lu")
    response = post(
        web,
        app,
        setup["proposal"],
        "project",
        {},
        files={"q_partner_letter": (io.BytesIO(f.PNG_BYTES), "letter.png")},
    )
    assert response.status_code == 422
    assert "This question takes PDF documents, not PNG." in text(response)
    assert "partner_letter" not in answers(app, setup["proposal"])


def test_required_and_conditional_questions_in_the_submission_checks(app, setup):
    with app.app_context():
        proposal = db.session.get(Proposal, setup["proposal"])
        from tracker.core.time import local_today
        from tracker.proposals import sections

        problems = [
            m for _s, m in sections.submission_problems(proposal, sections.FULL, local_today())
        ]
        assert any("Answer “Company share”" in m for m in problems)
        assert any("Answer “Road haulage”" in m for m in problems)
        assert not any("Trucks" in m for m in problems)  # hidden: not required
        qops.save_answers(proposal, list(qops.questions_of(proposal.call)), {"road_haulage": "yes"})
        problems = [
            m for _s, m in sections.submission_problems(proposal, sections.FULL, local_today())
        ]
        assert any("Answer “Trucks”" in m for m in problems)  # shown by the answer: required


def _answer_everything(app, pid, road_haulage="yes"):
    with app.app_context():
        proposal = db.session.get(Proposal, pid)
        values = {
            "company_share": "30.00",
            "green_model": "Solar cold rooms.",
            "road_haulage": road_haulage,
            "trucks": "12",
            "technology": "wind",
        }
        qops.save_answers(proposal, list(qops.questions_of(proposal.call)), values)
        db.session.commit()


def test_a_hidden_answer_is_left_out_of_what_is_submitted(app, setup):
    pid = setup["proposal"]
    _answer_everything(app, pid, road_haulage="yes")
    with app.app_context():
        proposal = db.session.get(Proposal, pid)
        qops.save_answers(proposal, list(qops.questions_of(proposal.call)), {"road_haulage": "no"})
        owner = db.session.get(f.User, proposal.created_by_id)
        f.take(proposal, "submit", owner)
        db.session.commit()
        [kept] = submissions_of(proposal)
        assert "trucks" not in kept.content["answers"]  # its old answer is not kept
        assert "trucks" not in {q["key"] for q in kept.content["questions"]}
        assert kept.content["answers"]["road_haulage"] == "no"
        assert kept.checksum == content_checksum(kept.content)
        assert (
            db.session.scalar(
                sa.select(Answer.value)
                .join(Question)
                .where(Answer.proposal_id == pid, Question.key == "trucks")
            )
            == "12"
        )  # the draft's answer stays in the draft


def test_answers_are_in_the_checksum_the_kept_version_and_the_exports(app, setup):
    pid = setup["proposal"]
    _answer_everything(app, pid)
    with app.app_context():
        proposal = db.session.get(Proposal, pid)
        from tracker.proposals.operations import submission_checksum

        before = submission_checksum(proposal)
        qops.save_answers(proposal, list(qops.questions_of(proposal.call)), {"technology": "solar"})
        assert submission_checksum(proposal) != before  # an answer changes the checksum
        owner = db.session.get(f.User, proposal.created_by_id)
        f.take(proposal, "submit", owner)
        db.session.commit()
    reviewer = Web(app.test_client())
    reviewer.login("reviewer@agency.lu")
    page = text(reviewer.get(f"/review/proposals/{pid}"))
    answers_shown = page[page.index("call-answers") :]
    assert "Technology" in answers_shown and "Solar" in answers_shown
    exported = reviewer.get(f"/review/proposals.csv?call={setup['call']}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows[0]["Technology"] == "Solar" and rows[0]["Road haulage"] == "Yes"
    assert rows[0]["Company share"] == "30 %" or rows[0]["Company share"].startswith("30")
    # The queue filters on choice questions of the call.
    found = text(reviewer.get(f"/review/proposals?call={setup['call']}&a_technology=solar"))
    assert "Solar cold storage" in found or proposal_reference(app, pid) in found
    none = text(reviewer.get(f"/review/proposals?call={setup['call']}&a_technology=wind"))
    assert proposal_reference(app, pid) not in none


def proposal_reference(app, pid):
    with app.app_context():
        return db.session.get(Proposal, pid).reference


def test_correcting_the_form_later_leaves_a_submitted_proposal_as_answered(app, setup):
    pid = setup["proposal"]
    _answer_everything(app, pid)
    with app.app_context():
        proposal = db.session.get(Proposal, pid)
        owner = db.session.get(f.User, proposal.created_by_id)
        f.take(proposal, "submit", owner)
        db.session.commit()
        admin = db.session.scalar(sa.select(f.User).where(f.User.email == "admin@agency.lu"))
        technology = db.session.scalar(sa.select(Question).where(Question.key == "technology"))
        corrected = [dict(c) for c in CHOICES]
        corrected[1] = {"value": "wind", "label": {"en": "Wind power"}}
        qops.save_question(
            proposal.call,
            technology,
            {
                "label": {"en": "Main technology"},
                "kind": "choice",
                "section": "project",
                "required": True,
                "settings": {"choices": corrected},
            },
            admin,
        )
        with pytest.raises(qops.QuestionError, match="cannot go: wind"):
            qops.save_question(
                proposal.call,
                technology,
                {
                    "label": {"en": "Main technology"},
                    "kind": "choice",
                    "section": "project",
                    "settings": {"choices": CHOICES[:1] + CHOICES[2:]},
                },
                admin,
            )
        with pytest.raises(qops.QuestionError, match="its type cannot change"):
            qops.save_question(
                proposal.call,
                technology,
                {"label": {"en": "Main technology"}, "kind": "short_text", "section": "project"},
                admin,
            )
        with pytest.raises(qops.QuestionError, match="cannot be removed"):
            qops.remove_question(technology, admin)
        db.session.commit()
        [kept] = db.session.scalars(sa.select(Submission).where(Submission.proposal_id == pid))
        [asked] = [q for q in kept.content["questions"] if q["key"] == "technology"]
        assert asked["label"]["en"] == "Technology"  # as it was asked
        assert asked["settings"]["choices"][1]["label"]["en"] == "Wind"
    reviewer = Web(app.test_client())
    reviewer.login("reviewer@agency.lu")
    page = text(reviewer.get(f"/review/proposals/{pid}"))
    shown = page[page.index("call-answers") :]
    assert "Technology" in shown and "Main technology" not in shown


def test_questions_are_copied_from_another_call(app, setup):
    with app.app_context():
        admin = db.session.scalar(sa.select(f.User).where(f.User.email == "admin@agency.lu"))
        source = db.session.get(f.Call, setup["call"])
        section = qops.add_section(
            source, {"en": "Green and digital", "fr": "Vert et numérique"}, "full", admin
        )
        qops.save_question(
            source,
            None,
            {"label": {"en": "Digital twin"}, "kind": "yes_no", "section": section.key},
            admin,
        )
        target = f.call(code="SGBC", title="Another programme's call")
        db.session.commit()
        target_id = target.id
    admin_web = Web(app.test_client())
    admin_web.login("admin@agency.lu")
    response = admin_web.post(
        f"/admin/calls/{target_id}/questions/copy", {"copy_from": str(setup["call"])}
    )
    assert response.status_code == 302
    page = text(admin_web.get(f"/admin/calls/{target_id}/questions"))
    assert f"{len(QUESTIONS) + 1} question(s) copied" in page
    with app.app_context():
        target = db.session.get(f.Call, target_id)
        copied = {q.key: q for q in qops.questions_of(target)}
        assert copied["trucks"].condition == {"question": "road_haulage", "values": ["yes"]}
        assert [s.title["en"] for s in qops.sections_of(target)] == ["Green and digital"]
        assert copied["digital_twin"].section == qops.sections_of(target)[0].key
    preview = text(admin_web.get(f"/admin/calls/{target_id}/questions/preview?lang=fr"))
    assert "FR company_share" in preview and "Vert et numérique" in preview


def test_the_builder_refuses_bad_questions_with_the_reason(app, setup):
    admin = Web(app.test_client())
    admin.login("admin@agency.lu")
    url = f"/admin/calls/{setup['call']}/questions"
    no_label = admin.post(url, {"kind": "short_text", "section": "lead"})
    assert no_label.status_code == 422 and "Give the question in English" in text(no_label)
    one_choice = admin.post(
        url, {"label_en": "Pick", "kind": "choice", "section": "lead", "choices": "only"}
    )
    assert "at least two choices" in text(one_choice)
    bad_condition = admin.post(
        url,
        {
            "label_en": "X",
            "kind": "short_text",
            "section": "lead",
            "condition_question": "green_model",
            "condition_values": "a",
        },
    )
    assert "A condition is on a yes/no or choice question." in text(bad_condition)
    ok = admin.post(
        url, {"label_en": "Fleet size", "kind": "integer", "section": "lead", "required": "y"}
    )
    assert ok.status_code == 302
    assert re.search(r"Question added: “Fleet size”", text(admin.get(ok.headers["Location"])))
