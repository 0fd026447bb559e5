"""Workflow files: the shipped ones load; each kind of mistake is refused with its line;
an installation's folder adds its own; a workflow in use cannot strand proposals."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from config import TestingConfig
from tests import factories as f
from tracker import create_app
from tracker.extensions import db
from tracker.workflow import definitions
from tracker.workflow.definitions import SHIPPED_DIR, vocabulary
from tracker.workflow.loader import check_text, load_text

MINIMAL = textwrap.dedent(
    """\
    key: tiny-fund
    label: {en: "A tiny fund", fr: "Un petit fonds", de: "Ein kleiner Fonds"}
    initial: draft
    groups:
      hidden_from_staff: [draft]
      selected: [granted]
      rejected: [rejected]
      withdrawn: [withdrawn]
      submitted: [submitted]
    states:
      draft:
        label: Draft
        applicant_edits: true
      submitted:
        label: Submitted
      granted:
        label: Granted
        terminal: true
      rejected:
        label: Rejected
        terminal: true
      withdrawn:
        label: Withdrawn
        terminal: true
    transitions:
      submit:
        label: Submit
        from: [draft]
        to: submitted
        roles: [applicant]
        guards: [call_open, proposal_complete]
        effects: [record_submission]
      grant:
        label: Grant
        from: [submitted]
        to: granted
        roles: [committee]
        effects: [record_grant]
        inputs: [granted_eur]
      reject:
        label: Reject
        from: [submitted]
        to: rejected
        roles: [committee]
        requires_reason: true
      withdraw:
        label: Withdraw
        from: [draft, submitted]
        to: withdrawn
        roles: [applicant]
        requires_reason: true
    """
)


def problems(text):
    return [(p.line, p.message) for p in check_text(text, vocabulary())]


def test_the_shipped_workflows_load_and_check_clean():
    registry = definitions.load_registry()
    assert {"bpf-single-stage", "bpf-two-stage", "challenge-fund"} <= set(registry)
    for path in SHIPPED_DIR.glob("*.yaml"):
        assert problems(path.read_text()) == [], path
    two = registry["bpf-two-stage"]
    assert two.two_stage and two.in_group("full_proposal", "preselected")
    assert str(two.states["draft"].label) == "Draft"
    assert two.states["draft"].label["fr"] == "Brouillon"
    assert load_text(MINIMAL, vocabulary()).key == "tiny-fund"


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        (
            ("guards: [call_open, proposal_complete]", "guards: [call_open, lucky_day]"),
            "lucky_day",
            "unknown guard “lucky_day”",
        ),
        (
            ("roles: [committee]\n    effects", "roles: [board]\n    effects"),
            "roles: [board]",
            "unknown role “board”",
        ),
        (
            ("effects: [record_grant]", "effects: [record_grant, send_flowers]"),
            "send_flowers",
            "unknown effect “send_flowers”",
        ),
        (("to: granted", "to: granted_maybe"), "granted_maybe", "unknown state “granted_maybe”"),
        (
            ("from: [submitted]\n    to: rejected", "from: [submited]\n    to: rejected"),
            "[submited]",
            "unknown state “submited”",
        ),
        (
            (
                "  granted:\n    label: Granted\n    terminal: true",
                "  granted:\n    label: Granted",
            ),
            "  granted:",
            "is not terminal but no transition leads out of it",
        ),
        (
            (
                "  withdrawn:\n    label: Withdrawn",
                "  orphan:\n    label: Orphan\n    terminal: true\n  withdrawn:\n    label: Withdrawn",
            ),
            "  orphan:",
            "cannot be reached",
        ),
        (("inputs: [granted_eur]", "inputs: [granted_eur, mood]"), "mood]", "unknown input “mood”"),
        (
            ("  selected: [granted]", "  selected: [granted, gone]"),
            "[granted, gone]",
            "unknown state “gone”",
        ),
        (
            ("    label: Reject\n", "    label: Reject\n    colour: red\n"),
            "colour: red",
            "'colour' was unexpected",
        ),
        (
            ("  submit:\n    label: Submit\n", "  submit:\n    label: Submit\n    label: Send\n"),
            "label: Send",
            "given twice",
        ),
        (("initial: draft", "initial: start"), "initial: start", "unknown state “start”"),
    ],
)
def test_each_kind_of_mistake_is_named_with_its_line(change, needle, message):
    old, new = change
    assert old in MINIMAL, old
    text = MINIMAL.replace(old, new, 1)
    found = problems(text)
    assert any(message in text_ for _line, text_ in found), found
    line = next(line for line, text_ in found if message in text_)
    assert line == line_of(text, needle), (line, found)


def test_broken_yaml_and_a_missing_part_are_named():
    [(line, message)] = problems("key: broken\nstates: [unclosed\n")
    assert "not valid YAML" in message and line == 3
    missing = problems("key: half\nlabel: Half\ninitial: draft\nstates: {draft: {label: Draft}}\n")
    assert any("'transitions' is required" in m for _l, m in missing)


def test_a_draft_left_without_a_submission_is_refused():
    text = MINIMAL.replace("effects: [record_submission]", "effects: []")
    assert any("leaves the draft without submitting it" in m for _l, m in problems(text))


def test_the_command_line_checks_a_file_with_lines(runner, tmp_path):
    good = tmp_path / "tiny.yaml"
    good.write_text(MINIMAL)
    ok = runner.invoke(args=["workflows", "check", str(good)])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MINIMAL.replace("roles: [committee]\n    effects", "roles: [board]\n    effects")
    )
    refused = runner.invoke(args=["workflows", "check", str(bad)])
    assert refused.exit_code == 1
    assert re.search(rf"{re.escape(str(bad))}:\d+: unknown role “board”", refused.output)
    listed = runner.invoke(args=["workflows", "list"])
    assert "challenge-fund" in listed.output and "bpf-two-stage" in listed.output
    shown = runner.invoke(args=["workflows", "show", "bpf-two-stage"])
    assert "--preselect (committee)--> full_proposal" in shown.output
    assert runner.invoke(args=["workflows", "show", "nope"]).exit_code == 1


def test_an_installation_adds_its_own_workflow(app, tmp_path):
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(MINIMAL)
    own = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_FOLDER": str(tmp_path / "up"),
            "WORKFLOWS_DIR": str(folder),
        },
    )
    try:
        with own.app_context():
            assert "tiny-fund" in definitions.workflows()
            call = f.call(workflow_key="tiny-fund")
            owner = f.applicant()
            proposal = f.submitted(call, owner)
            f.take(proposal, "grant", f.staff("committee"))
            db.session.commit()
            assert proposal.status == "granted"
            admin_email = f.staff("admin").email
            db.session.commit()
        from tests.web import Web

        browser = Web(own.test_client())
        browser.login(admin_email)
        page = browser.get("/admin/workflows/tiny-fund").get_data(as_text=True)
        assert "A tiny fund" in page and "<svg" in page
        # A second file with a shipped key is refused.
        (folder / "clash.yaml").write_text(MINIMAL.replace("key: tiny-fund", "key: bpf-two-stage"))
        with pytest.raises(Exception, match="already used"):
            create_app(
                TestingConfig,
                {"SQLALCHEMY_DATABASE_URI": "sqlite://", "WORKFLOWS_DIR": str(folder)},
            )
    finally:
        with own.app_context():
            db.session.remove()
            db.engine.dispose()
        definitions.load_registry()


def test_a_workflow_in_use_cannot_lose_a_state_its_proposals_are_in(app, runner, tmp_path):
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(MINIMAL)
    settings = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_FOLDER": str(tmp_path / "up"),
        "WORKFLOWS_DIR": str(folder),
    }
    own = create_app(TestingConfig, settings)
    try:
        with own.app_context():
            f.submitted(f.call(workflow_key="tiny-fund"), f.applicant())  # in "submitted"
            db.session.commit()
        changed = (
            MINIMAL.replace("to: submitted", "to: waiting")
            .replace("  submitted:\n    label: Submitted", "  waiting:\n    label: Waiting")
            .replace("from: [submitted]", "from: [waiting]")
            .replace("from: [draft, submitted]", "from: [draft, waiting]")
            .replace("submitted: [submitted]", "submitted: [waiting]")
        )
        edited = folder / "tiny.yaml"
        edited.write_text(changed)
        checked = own.test_cli_runner().invoke(args=["workflows", "check", str(edited)])
        assert checked.exit_code == 1
        assert "1 proposal(s) of calls using “tiny-fund” are in state “submitted”" in checked.output
        with pytest.raises(RuntimeError, match="strand"):
            create_app(TestingConfig, settings)
    finally:
        with own.app_context():
            db.session.remove()
            db.engine.dispose()
        definitions.load_registry()
    assert Path(edited).exists()


def test_every_shipped_transition_has_a_past_tense_entry_in_three_languages():
    """The timeline says what happened ("Submitted"), never the button ("Submit")."""
    for workflow in definitions.load_registry().values():
        if not (SHIPPED_DIR / f"{workflow.key}.yaml").exists():
            continue
        for transition in workflow.transitions.values():
            entry = transition.history_label
            assert entry is not None, (workflow.key, transition.key)
            assert set(entry) == {"en", "fr", "de"}, (workflow.key, transition.key)
            for language in ("en", "fr", "de"):
                assert entry[language] != transition.label[language], (
                    workflow.key,
                    transition.key,
                    language,
                )
