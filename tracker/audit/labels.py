"""How each kind of audited object and its fields are named on pages: one place for all.

Fields are named as in their forms, so the labels come from the form classes themselves.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from tracker.audit.operations import register_labels
from tracker.core.forms import form_labeller


def register_all() -> None:
    """Called once by ``create_app``."""
    from tracker.auth.forms import UserRolesForm
    from tracker.programmes.forms import BatchForm, CallForm, RubricForm
    from tracker.programmes.rubrics import DEFAULT_CRITERIA
    from tracker.proposals import forms as proposal_forms
    from tracker.proposals.eligibility import CHECK_TITLES
    from tracker.proposals.sections import SECTIONS
    from tracker.review import rules
    from tracker.review.forms import ConflictForm, ContractForm, HrddForm, RiskEntry

    for section in SECTIONS:
        form_cls = proposal_forms.SECTION_FORMS.get(section.key)
        if form_cls is None:
            continue
        register_labels(
            f"section:{section.key}",
            section.title,
            form_labeller(
                form_cls,
                item_titles={"partners": _l("Partner %(n)s"), "steps": _l("Step %(n)s")},
            ),
        )
    register_labels(
        "document",
        _l("Document"),
        form_labeller(
            proposal_forms.DocumentForm,
            extra={"filename": _l("File name"), "sha256": _l("SHA-256 checksum")},
        ),
    )

    risk_label = form_labeller(RiskEntry)

    def hrdd_label(name: str) -> str:
        head, _sep, sub = name.partition("-")
        if head.startswith("risk_") and head[5:] in rules.SALIENT_RISKS:
            return f"{rules.SALIENT_RISKS[head[5:]]}: {risk_label(sub)}"
        return form_labeller(HrddForm, item_titles={"conditions": _l("Condition %(n)s")})(name)

    register_labels("hrdd_assessment", _l("HRDD assessment"), hrdd_label)

    def screening_label(name: str) -> str:
        head, _sep, sub = name.partition("-")
        key = head.removeprefix("item_")
        title = rules.MANUAL_SCREENING_ITEMS.get(key) or CHECK_TITLES.get(key) or key
        return f"{title}: {_l('note') if sub == 'note' else _l('decision')}"

    register_labels("screening", _l("Eligibility checklist"), screening_label)

    criteria = {f"mark_{key}": title for key, title, _guidance, _weight in DEFAULT_CRITERIA}

    def score_label(name: str) -> str:
        if name in criteria:
            return criteria[name]
        if name.startswith("mark_"):  # a criterion of a call's own rubric
            return name.removeprefix("mark_").replace("_", " ").capitalize()
        return str({"comment": _l("Comments"), "total": _l("Total")}.get(name, name))

    register_labels("score", _l("Score"), score_label)
    register_labels(
        "rubric",
        _l("Scoring rubric"),
        form_labeller(RubricForm, item_titles={"criteria": _l("Criterion %(n)s")}),
    )
    register_labels("batch", _l("Review batch"), form_labeller(BatchForm))
    register_labels(
        "deadline",
        _l("Deadline"),
        lambda name: str(_l("Deadline extended to")),
    )
    register_labels("conflict", _l("Conflict of interest"), form_labeller(ConflictForm))
    register_labels("assignment", _l("Reviewer assignment"), lambda name: str(_l("Reviewer")))
    register_labels("selection", _l("Selection"), lambda name: str(_l("Amount granted (EUR)")))
    register_labels(
        "contract",
        _l("Agreement"),
        form_labeller(
            ContractForm,
            item_titles={"conditions": _l("Condition %(n)s"), "instalments": _l("Payment %(n)s")},
            extra={
                "signed_at": _l("Signature recorded"),
                "recovery_eur": _l("Amount to recover (EUR)"),
                "total_cost_eur": _l("Total cost of the project (EUR)"),
                "closed_with": _l("Closed with"),
            },
        ),
    )
    register_labels("call", _l("Call"), form_labeller(CallForm))
    register_labels(
        "user",
        _l("Account"),
        form_labeller(
            UserRolesForm,
            extra={
                "organisation": _l("Organisation"),
                "password": _l("Password"),
                "second_factor": _l("Two-factor sign-in"),
            },
        ),
    )
    from tracker.projects.forms import GrievanceForm

    payment_fields = {
        "label": _l("Tranche"),
        "planned_eur": _l("Planned (EUR)"),
        "paid_on": _l("Paid on"),
        "paid_eur": _l("Amount paid (EUR)"),
        "payment_reference": _l("Payment reference"),
    }
    register_labels("payment", _l("Payment"), lambda name: str(payment_fields.get(name, name)))
    report_fields = {
        "status": _l("Status"),
        "submitted_version": _l("Version submitted"),
        "decision": _l("Decision"),
        "due_on": _l("Due date"),
        "reason": _l("Why it changes"),
    }
    register_labels("report", _l("Report"), lambda name: str(report_fields.get(name, name)))
    condition_fields = {
        "status": _l("Status"),
        "evidence": _l("Evidence verified"),
        "reason": _l("Reason"),
        "due_on": _l("Due date"),
    }
    register_labels(
        "condition", _l("HRDD condition"), lambda name: str(condition_fields.get(name, name))
    )
    register_labels(
        "grievance",
        _l("Grievance"),
        form_labeller(GrievanceForm, extra={"closed_on": _l("Closed on")}),
    )
    register_labels(
        "report_document",
        _l("Report document"),
        lambda name: str({"filename": _l("File"), "sha256": _l("Checksum")}.get(name, name)),
    )
    register_labels(
        "outbox",
        _l("E-mail"),
        lambda name: str({"status": _l("Status"), "to": _l("Recipient")}.get(name, name)),
    )
