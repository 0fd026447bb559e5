"""The reviewers' reference lists: screening items, salient risks, exclusions, payments.

Scoring criteria are per call (tracker.programmes.rubrics).
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

# Items of the screening checklist that a reviewer ticks; the rest come from the data
# (tracker.proposals.eligibility) and are shown pre-evaluated.
MANUAL_SCREENING_ITEMS = {
    "private_company": _l("The lead applicant is a private company (not a public body or an NGO)"),
    "documents_readable": _l(
        "The required documents are present, readable and consistent with the form"
    ),
    "de_minimis_room": _l(
        "The de minimis aid declared leaves room for this grant under the de minimis ceiling"
    ),
    "no_difficulty": _l(
        "The company is not in difficulty and has no unpaid taxes or social contributions"
    ),
}
# Items about what only the full proposal brings: not asked when a two-stage call screens its
# concept note (the documents come after pre-selection).
FULL_PROPOSAL_ITEMS = frozenset({"documents_readable"})

EXCLUSION_LIST = (
    _l("Weapons and munitions"),
    _l("Tobacco"),
    _l("Gambling"),
    _l("Products or activities banned by national law or international conventions"),
    _l("Forced labour or harmful child labour"),
    _l("Trade in wildlife or products regulated under CITES"),
    _l("Fossil-fuel extraction"),
)

SALIENT_RISKS = {
    "labour": _l("Labour and occupational health and safety"),
    "child_forced_labour": _l("Child and forced labour"),
    "discrimination_gender": _l("Discrimination and gender"),
    "land_indigenous": _l("Land, resettlement and indigenous peoples"),
    "community": _l("Community health, safety and security"),
    "environment": _l("Environment, biodiversity and climate"),
    "data_privacy": _l("Data privacy and surveillance (ICT, fintech, space)"),
    "consumer": _l("Consumer protection (fintech, health)"),
    "corruption_tax": _l("Corruption and tax"),
}


DEFAULT_SCHEDULE = (
    (_l("At signature"), Decimal("25.00")),
    (_l("On approval of the mid-term report"), Decimal("50.00")),
    (_l("On approval of the final report"), Decimal("25.00")),
)
