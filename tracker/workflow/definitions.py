"""The workflows as data: states, transitions, who may take them and what they need.

A pure module: no Flask, no database. Guards are named here and implemented in
``tracker.workflow.guards``; the service in ``tracker.workflow.operations`` is the only code that
moves a proposal from one state to another. Labels are marked for translation with ``N_`` and
translated where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def N_(text: str) -> str:
    """Marks a string for translation without translating it here."""
    return text


APPLICANT = "applicant"
REVIEWER = "reviewer"
HRDD = "hrdd"
COMMITTEE = "committee"
ADMIN = "admin"

# Special targets, resolved from the history by the service.
RETURN_TO_PREVIOUS = "@previous"  # where the proposal was before info_requested
RETURN_FROM_REJECTION = "@before-rejection"  # where it was before it was rejected


@dataclass(frozen=True)
class State:
    """A status a proposal can be in."""

    key: str
    label: str
    badge: str = "secondary"
    applicant_label: str | None = None  # what the applicant sees, when it differs
    terminal: bool = False
    applicant_edits: bool = False  # whether the applicant may edit the form in this state


@dataclass(frozen=True)
class Transition:
    """A way out of one or more states."""

    key: str
    label: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    guards: tuple[str, ...] = ()
    requires_reason: bool = False  # a reason or message that the applicant sees
    reason_label: str = N_("Reason")
    notify_applicant: bool = False
    public: bool = True  # shown on the applicant's timeline
    button: str = "primary"
    confirm: str | None = None  # asked before an irreversible step
    history_label: str | None = None  # how the applicant's timeline words it

    @property
    def by_applicant(self) -> bool:
        return APPLICANT in self.roles


@dataclass(frozen=True)
class Workflow:
    """A versioned set of states and transitions that a call runs under."""

    key: str
    label: str
    states: dict[str, State]
    transitions: dict[str, Transition]
    initial: str = "draft"
    two_stage: bool = False
    scores_required: int = 2
    divergence_threshold: float = 0.30  # a third score when two differ by more than this share
    notes: tuple[str, ...] = field(default_factory=tuple)

    def state(self, key: str) -> State:
        return self.states[key]

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]

    def is_terminal(self, state: str) -> bool:
        return self.states[state].terminal


def _states(two_stage: bool) -> dict[str, State]:
    states = [
        State("draft", N_("Draft"), "secondary", applicant_edits=True),
        State("submitted", N_("Submitted"), "info", N_("Submitted, waiting for screening")),
        State("screening", N_("Screening"), "info", N_("Eligibility check")),
        State(
            "preselection", N_("Pre-selection"), "info", N_("Before the pre-selection committee")
        ),
        State(
            "full_proposal",
            N_("Full proposal"),
            "warning",
            N_("Pre-selected: complete the full proposal"),
            applicant_edits=True,
        ),
        State("hrdd_review", N_("HRDD review"), "info", N_("Human-rights due-diligence review")),
        State("evaluation", N_("Evaluation"), "info", N_("Under evaluation")),
        State("selection", N_("Selection"), "info", N_("Under evaluation")),
        State("reserve", N_("Reserve list"), "warning", N_("Under evaluation")),
        State("selected", N_("Selected"), "success"),
        State(
            "contracting", N_("Contracting"), "success", N_("Selected: agreement in preparation")
        ),
        State("contracted", N_("Contracted"), "success", N_("Agreement signed")),
        State(
            "info_requested", N_("Information requested"), "warning", N_("Your answer is needed")
        ),
        State("rejected", N_("Rejected"), "danger", N_("Not retained"), terminal=True),
        State("withdrawn", N_("Withdrawn"), "dark", terminal=True),
    ]
    if not two_stage:
        states = [s for s in states if s.key not in {"preselection", "full_proposal"}]
    return {s.key: s for s in states}


def _transitions(two_stage: bool) -> dict[str, Transition]:
    staff_states_before_contracting = {
        "submitted",
        "screening",
        "preselection",
        "full_proposal",
        "hrdd_review",
        "evaluation",
        "selection",
        "reserve",
        "selected",
        "info_requested",
    }
    if not two_stage:
        staff_states_before_contracting -= {"preselection", "full_proposal"}

    def t(key, label, sources, target, roles, **kwargs) -> Transition:
        return Transition(key, label, frozenset(sources), target, frozenset(roles), **kwargs)

    def reject(key, label, sources, roles, history_label, **kwargs) -> Transition:
        """A rejection: always with a reason the applicant sees, confirmed first."""
        kwargs.setdefault("confirm", N_("Reject this proposal? The applicant will see the reason."))
        return t(
            key,
            label,
            sources,
            "rejected",
            roles,
            requires_reason=True,
            reason_label=N_("Reason for the applicant"),
            notify_applicant=True,
            button="danger",
            history_label=history_label,
            **kwargs,
        )

    submit_guards = ("call_open", "concept_note_complete" if two_stage else "proposal_complete")
    items = [
        t(
            "submit",
            N_("Submit the concept note") if two_stage else N_("Submit the proposal"),
            {"draft"},
            "submitted",
            {APPLICANT},
            guards=submit_guards,
            confirm=N_("After submission the form is locked. Submit now?"),
            history_label=N_("Submitted"),
        ),
        t(
            "start_screening",
            N_("Start screening"),
            {"submitted"},
            "screening",
            {REVIEWER},
            history_label=N_("Eligibility check started"),
        ),
        t(
            "pass_screening",
            N_("Pass screening"),
            {"screening"},
            "preselection" if two_stage else "hrdd_review",
            {REVIEWER},
            guards=("screening_passed",),
            notify_applicant=True,
            history_label=N_("Found eligible"),
        ),
        reject(
            "reject_screening",
            N_("Reject at screening"),
            {"screening"},
            {REVIEWER},
            N_("Not eligible"),
        ),
        t(
            "request_information",
            N_("Request information"),
            {"screening", "hrdd_review", "evaluation"},
            "info_requested",
            {REVIEWER, HRDD},
            requires_reason=True,
            reason_label=N_("Message to the applicant"),
            notify_applicant=True,
            button="warning",
            history_label=N_("Information requested"),
        ),
        t(
            "respond",
            N_("Send the answer"),
            {"info_requested"},
            RETURN_TO_PREVIOUS,
            {APPLICANT},
            requires_reason=True,
            reason_label=N_("Your answer"),
            history_label=N_("Answer sent"),
        ),
        t(
            "clear_hrdd",
            N_("Clear HRDD review"),
            {"hrdd_review"},
            "evaluation",
            {HRDD},
            guards=("hrdd_cleared",),
            history_label=N_("Human-rights due-diligence review completed"),
        ),
        reject(
            "reject_hrdd",
            N_("Reject at HRDD review"),
            {"hrdd_review"},
            {HRDD},
            N_("Not retained after the human-rights due-diligence review"),
        ),
        t(
            "complete_evaluation",
            N_("Complete evaluation"),
            {"evaluation"},
            "selection",
            {REVIEWER},
            guards=("scores_complete",),
            public=False,
        ),
        reject(
            "reject_evaluation",
            N_("Reject after evaluation"),
            {"evaluation"},
            {REVIEWER},
            N_("Not retained after evaluation"),
        ),
        t(
            "select",
            N_("Select"),
            {"selection", "reserve"},
            "selected",
            {COMMITTEE},
            guards=("no_conflict", "selection_ready", "grant_within_limits"),
            notify_applicant=True,
            button="success",
            confirm=N_("Record the selection of this proposal with this amount?"),
            history_label=N_("Selected for co-financing"),
        ),
        t(
            "reserve",
            N_("Put on the reserve list"),
            {"selection"},
            "reserve",
            {COMMITTEE},
            guards=("no_conflict",),
            public=False,
            button="warning",
        ),
        reject(
            "reject_selection",
            N_("Reject at selection"),
            {"selection", "reserve"},
            {COMMITTEE},
            N_("Not selected by the committee"),
            guards=("no_conflict",),
        ),
        t(
            "start_contracting",
            N_("Start contracting"),
            {"selected"},
            "contracting",
            {REVIEWER},
            notify_applicant=True,
            history_label=N_("Agreement in preparation"),
        ),
        t(
            "sign_contract",
            N_("Record the signed agreement"),
            {"contracting"},
            "contracted",
            {REVIEWER},
            guards=("contract_complete",),
            notify_applicant=True,
            button="success",
            confirm=N_(
                "Record the agreement as signed by both parties? It cannot be changed after."
            ),
            history_label=N_("Agreement signed"),
        ),
        reject(
            "cancel",
            N_("Cancel"),
            {"selected", "contracting"},
            {REVIEWER},
            N_("Selection cancelled"),
            confirm=N_("Cancel this selection? The applicant will see the reason."),
        ),
        t(
            "withdraw",
            N_("Withdraw the proposal"),
            {"draft"} | staff_states_before_contracting,
            "withdrawn",
            {APPLICANT},
            requires_reason=True,
            reason_label=N_("Why are you withdrawing?"),
            button="outline-danger",
            confirm=N_("Withdraw this proposal? This cannot be undone."),
            history_label=N_("Withdrawn by the applicant"),
        ),
        t(
            "reopen",
            N_("Reopen"),
            {"rejected"},
            RETURN_FROM_REJECTION,
            {ADMIN},
            requires_reason=True,
            reason_label=N_("Why is the rejection undone?"),
            notify_applicant=True,
            button="outline-secondary",
            history_label=N_("Rejection undone"),
        ),
    ]
    if two_stage:
        items += [
            t(
                "preselect",
                N_("Pre-select"),
                {"preselection"},
                "full_proposal",
                {COMMITTEE},
                guards=("no_conflict",),
                notify_applicant=True,
                button="success",
                history_label=N_("Pre-selected: the full proposal is invited"),
            ),
            reject(
                "reject_preselection",
                N_("Reject at pre-selection"),
                {"preselection"},
                {COMMITTEE},
                N_("Not pre-selected"),
                guards=("no_conflict",),
                confirm=N_("Reject this concept note? The applicant will see the reason."),
            ),
            t(
                "submit_full_proposal",
                N_("Submit the full proposal"),
                {"full_proposal"},
                "hrdd_review",
                {APPLICANT},
                guards=("full_proposal_open", "proposal_complete"),
                confirm=N_("After submission the form is locked. Submit the full proposal now?"),
                history_label=N_("Full proposal submitted"),
            ),
        ]
    return {item.key: item for item in items}


def _workflow(key: str, label: str, two_stage: bool) -> Workflow:
    return Workflow(
        key=key,
        label=label,
        states=_states(two_stage),
        transitions=_transitions(two_stage),
        two_stage=two_stage,
    )


SINGLE_STAGE = _workflow(
    "bpf-single-stage", N_("Single stage (one full application, before 2022)"), two_stage=False
)
TWO_STAGE = _workflow(
    "bpf-two-stage", N_("Two stages (concept note, then full proposal, since 2022)"), two_stage=True
)

WORKFLOWS: dict[str, Workflow] = {w.key: w for w in (SINGLE_STAGE, TWO_STAGE)}
DEFAULT_WORKFLOW = TWO_STAGE.key
# Transition recorded when a proposal is created, and for imported history.
CREATE = "create"
IMPORT = "import"


def get_workflow(key: str) -> Workflow:
    """The workflow with this key; unknown keys are a configuration error."""
    try:
        return WORKFLOWS[key]
    except KeyError:
        raise KeyError(f"unknown workflow {key!r}; known: {', '.join(WORKFLOWS)}") from None


def all_states() -> dict[str, State]:
    """Every state of every workflow (for labels in lists that mix calls)."""
    merged: dict[str, State] = {}
    for workflow in WORKFLOWS.values():
        merged.update(workflow.states)
    return merged
