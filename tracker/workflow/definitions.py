"""The workflows: states, transitions, who may take them, and named groups of states.

A pure module: no Flask, no database. Workflows are data files (``tracker/workflow/data/*.yaml``,
plus an installation's own in ``TRACKER_WORKFLOWS_DIR``), read by ``tracker.workflow.loader``
and kept here by key. Guards and effects are named in the files and implemented elsewhere (the
registry is ``tracker.workflow.builtins``); the service in ``tracker.workflow.operations`` is the
only code that moves a proposal from one state to another.

The rest of the code never names a state: it asks a workflow whether a state belongs to a
group (``workflow.in_group(proposal.status, "scoring")``), and the groups are in the files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

APPLICANT = "applicant"
REVIEWER = "reviewer"
HRDD = "hrdd"
COMMITTEE = "committee"
ADMIN = "admin"
ROLES = frozenset({APPLICANT, REVIEWER, HRDD, COMMITTEE, ADMIN})

# Special targets, resolved from the history by the service.
RETURN_TO_PREVIOUS = "@previous"  # where the proposal was before information was requested
RETURN_FROM_REJECTION = "@before-rejection"  # where it was before it was rejected
SAME_STATE = "@same"  # stays where it is (an extension of the deadline, say), with its history row

# The guards and effects a workflow file may name (implemented and registered by the features:
# see tracker.workflow.builtins), and the inputs a transition may ask for.
GUARD_NAMES = frozenset(
    {
        "call_open",
        "full_proposal_open",
        "concept_note_complete",
        "proposal_complete",
        "screening_passed",
        "hrdd_cleared",
        "scores_complete",
        "no_conflict",
        "selection_ready",
        "grant_within_limits",
        "contract_complete",
        "deadline_given",
        "address_verified",
        "amendment_valid",
        "recovery_valid",
        "closure_ready",
    }
)
EFFECT_NAMES = frozenset(
    {
        "record_submission",
        "record_full_submission",
        "record_grant",
        "prepare_contract",
        "sign_contract",
        "extend_deadline",
        "record_amendment",
        "record_termination",
        "record_closure",
    }
)
INPUT_NAMES = frozenset(
    {"granted_eur", "deadline", "end_date", "amended_eur", "amended_total_eur", "recover_eur"}
)

# The groups the code asks about, with what each means (documented in docs/workflows.md).
GROUPS = {
    "hidden_from_staff": "states of drafts, which staff do not see",
    "concept_note": "states where the applicant writes the concept note (two-stage calls)",
    "screening": "states where the eligibility checklist is filled",
    "hrdd_review": "states where the HRDD assessment is made",
    "scoring": "states where reviewers are assigned and score",
    "evaluation_shown": "states where the evaluation panel is shown",
    "conflict_declarable": "states where scorers and committee members declare conflicts",
    "committee": "states ranked before the committee",
    "preselection": "states where the pre-selection committee compares concept notes side by side",
    "committee_decides": "states where the committee decides (committee members see a proposal from the first)",
    "granted": "states of a proposal with a grant (selected, contracting, contracted...)",
    "contracting": "states where the agreement is prepared",
    "contract_visible": "states where the agreement is shown",
    "assignable": "states where reviewers may be assigned",
    "info_requested": "states waiting for the applicant's answer",
    "after_screening": "states reached only after passing eligibility (the report's funnel)",
    "preselected": "states reached only after pre-selection (the report's funnel)",
    "selected": "the state entered when the selection is decided (the report counts it)",
    "contracted": "the state of a signed agreement",
    "signed": "states of a project after its signature (followed to its closure)",
    "project_open": "states where reports, conditions and grievances of a project are followed",
    "payable": "states where a released tranche may be paid",
    "project_ended": "states of a project that ended (terminated or closed)",
    "submitted": "the state right after submission (historical imports)",
    "rejected": "the state of a rejection",
    "withdrawn": "the state of a withdrawal",
}


_language: Callable[[], str] = lambda: "en"  # noqa: E731 - replaced by the app (set_language)


def set_language(getter: Callable[[], str]) -> None:
    """Say how to find the reader's language (the app passes Flask-Babel's locale)."""
    global _language
    _language = getter


class LocalText(dict):
    """A label in several languages; ``str()`` gives the reader's, English when missing."""

    def __str__(self) -> str:
        language = (_language() or "en")[:2]
        return self.get(language) or self["en"]

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __hash__(self) -> int:  # frozen dataclasses holding it stay hashable
        return hash(tuple(sorted(self.items())))

    @classmethod
    def default_reason(cls) -> LocalText:
        return cls({"en": "Reason", "fr": "Motif", "de": "Begründung"})


@dataclass(frozen=True)
class State:
    """A status a proposal can be in."""

    key: str
    label: LocalText
    badge: str = "secondary"
    applicant_label: LocalText | None = None  # what the applicant sees, when it differs
    terminal: bool = False
    applicant_edits: bool = False  # whether the applicant may edit the form in this state


@dataclass(frozen=True)
class Transition:
    """A way out of one or more states."""

    key: str
    label: LocalText
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()  # what the person taking it gives: granted_eur, deadline
    requires_reason: bool = False  # a reason or message that the applicant sees
    reason_label: LocalText = field(default_factory=LocalText.default_reason)
    notify_applicant: bool = False
    public: bool = True  # shown on the applicant's timeline
    button: str = "primary"
    confirm: LocalText | None = None  # asked before an irreversible step
    history_label: LocalText | None = None  # how the applicant's timeline words it

    @property
    def by_applicant(self) -> bool:
        return APPLICANT in self.roles


@dataclass(frozen=True)
class Workflow:
    """A named set of states and transitions that a call runs under."""

    key: str
    label: LocalText
    states: dict[str, State]
    transitions: dict[str, Transition]
    initial: str = "draft"
    two_stage: bool = False
    groups: dict[str, frozenset[str]] = field(default_factory=dict)
    description: LocalText | None = None
    source: str = ""

    def state(self, key: str) -> State:
        return self.states[key]

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]

    def is_terminal(self, state: str) -> bool:
        return self.states[state].terminal

    def group(self, name: str) -> frozenset[str]:
        """The states of a named group (empty when the workflow does not have it)."""
        return self.groups.get(name, frozenset())

    def in_group(self, state: str | None, name: str) -> bool:
        return state in self.groups.get(name, ())

    def first_of(self, name: str) -> str:
        """The state of a group meant to hold one (``selected``, ``rejected``...)."""
        members = self.groups.get(name)
        if not members:
            raise KeyError(f"workflow {self.key!r} has no state in group {name!r}")
        return sorted(members)[0]

    def with_effect(self, effect: str) -> list[Transition]:
        return [t for t in self.transitions.values() if effect in t.effects]

    def with_guard(self, guard: str) -> list[Transition]:
        return [t for t in self.transitions.values() if guard in t.guards]

    def ordered_states(self) -> list[str]:
        """States in the order of the file, which follows the procedure."""
        return list(self.states)


# --- the registry ----------------------------------------------------------------------------

SHIPPED_DIR = Path(__file__).with_name("data")
CREATE = "create"  # the transition recorded when a proposal is created
IMPORT = "import"  # and the one of imported history

_registry: dict[str, Workflow] | None = None
_extra_dir: str | None = None


def vocabulary():
    from tracker.workflow.loader import Vocabulary

    return Vocabulary(roles=ROLES, guards=GUARD_NAMES, effects=EFFECT_NAMES, inputs=INPUT_NAMES)


def load_registry(extra_dir: str | None = None) -> dict[str, Workflow]:
    """Read the shipped workflows, then an installation's (``TRACKER_WORKFLOWS_DIR``).

    A file that does not pass the checks stops the start with every problem and its line; an
    installation's file may not reuse the key of a shipped workflow.
    """
    from tracker.workflow.loader import Problem, WorkflowFileError, load_file

    global _registry, _extra_dir
    found: dict[str, Workflow] = {}
    directories = [SHIPPED_DIR] + ([Path(extra_dir)] if extra_dir else [])
    for directory in directories:
        if not directory.is_dir():
            raise WorkflowFileError(str(directory), [Problem(0, "no such folder")])
        for path in sorted(directory.glob("*.yaml")):
            workflow = load_file(path, vocabulary())
            if workflow.key in found:
                raise WorkflowFileError(
                    str(path),
                    [
                        Problem(
                            1,
                            f"the key “{workflow.key}” is already used by "
                            f"{found[workflow.key].source}",
                        )
                    ],
                )
            found[workflow.key] = workflow
    _registry, _extra_dir = found, extra_dir
    return found


def workflows() -> dict[str, Workflow]:
    """Every installed workflow, by key."""
    if _registry is None:
        load_registry(_extra_dir)
    return _registry  # type: ignore[return-value]


def get_workflow(key: str) -> Workflow:
    """The workflow with this key; unknown keys are a configuration error."""
    try:
        return workflows()[key]
    except KeyError:
        raise KeyError(f"unknown workflow {key!r}; known: {', '.join(workflows())}") from None


_merged_states: tuple[dict, dict[str, State]] | None = None


def all_states() -> dict[str, State]:
    """Every state of every workflow (for labels in lists that mix calls); merged once per
    loading of the workflows."""
    global _merged_states
    registry = workflows()
    if _merged_states is None or _merged_states[0] is not registry:
        merged: dict[str, State] = {}
        for workflow in registry.values():
            for key, state in workflow.states.items():
                merged.setdefault(key, state)
        _merged_states = (registry, merged)
    return _merged_states[1]


def states_in_group(name: str) -> frozenset[str]:
    """The states of a group in any workflow (for queries over proposals of every call)."""
    return frozenset().union(*(w.group(name) for w in workflows().values()))


BPF_SINGLE_STAGE = "bpf-single-stage"
BPF_TWO_STAGE = "bpf-two-stage"
DEFAULT_WORKFLOW = BPF_TWO_STAGE
