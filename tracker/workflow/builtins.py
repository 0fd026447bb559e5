"""Where every guard and effect a workflow file may name is implemented: one import each.

Workflow files name guards and effects (``definitions.GUARD_NAMES``, ``EFFECT_NAMES``); the
features implement them with ``@guard`` and ``@effect`` in their own modules. Importing those
modules here, explicitly, is what registers them, and ``check`` makes sure none is missing.
"""

from __future__ import annotations


def register_all() -> None:
    """Import the modules that implement guards, effects and listeners, then check them."""
    import tracker.notifications.operations
    import tracker.projects.operations  # amendment_valid, recovery_valid, closure_ready;

    #   record_amendment, record_termination, record_closure
    import tracker.proposals.operations

    #   concept_note_complete, proposal_complete, deadline_given; record_submission,
    #   record_full_submission, extend_deadline
    import tracker.review.guards  # noqa: F401 - screening_passed, hrdd_cleared,
    #   scores_complete, no_conflict, selection_ready, grant_within_limits, contract_complete;
    #   record_grant, prepare_contract, sign_contract

    check()


def check() -> None:
    """Every guard and effect name a workflow may use has its implementation."""
    from tracker.workflow.definitions import EFFECT_NAMES, GUARD_NAMES
    from tracker.workflow.operations import EFFECTS, GUARDS

    missing = sorted((GUARD_NAMES - set(GUARDS)) | (EFFECT_NAMES - set(EFFECTS)))
    if missing:
        raise RuntimeError(f"workflow guards or effects without an implementation: {missing}")
