"""Eligibility and amount rules that can be checked from a proposal's data (DESIGN section 2).

The same checks block an incomplete submission on the applicant's side and appear
pre-evaluated on the reviewer's screening checklist. Every threshold comes from the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from tracker.core.countries import EU_MEMBER_STATES, country_name, dac_income_groups
from tracker.core.db import CENT
from tracker.core.numbers import format_money, format_percent, format_plain
from tracker.core.time import years_between

# Short names of the checks, for lists that do not show the call's thresholds (the audit trail).
CHECK_TITLES = {
    "lead_country": _l("Lead applicant registered in an EU member state"),
    "company_age": _l("Registration age"),
    "employees": _l("Employees"),
    "turnover": _l("Average turnover"),
    "rate": _l("Co-financing rate"),
    "ceiling": _l("Co-financing ceiling"),
    "budget_balance": _l("Balanced budget"),
    "local_partner": _l("At least one local partner in an eligible partner country"),
    "partner_count": _l("At most four partners"),
    "sector": _l("Sector covered by the call"),
}


@dataclass(frozen=True)
class Check:
    """One rule's outcome: True met, False not met, None not computable yet (data missing)."""

    key: str
    label: str
    ok: bool | None
    detail: str = ""


def euros(value: Decimal | None) -> str:
    """An amount in the reader's locale (``€150,000.00``, ``150 000,00 €``)."""
    return format_money(value)


def ceiling_for(proposal, call) -> Decimal:
    """The call's ceiling, lower for road-haulage companies."""
    if proposal.lead_is_road_haulage:
        return min(call.ceiling_eur, call.road_haulage_ceiling_eur)
    return call.ceiling_eur


INCOME_GROUP_TITLES = {
    "ldc": _l("least developed countries"),
    "other_lic": _l("other low-income countries"),
    "lmic": _l("lower middle-income countries"),
    "umic": _l("upper middle-income countries"),
}


def income_group_of(proposal) -> str | None:
    """The OECD-DAC income group of the proposal's partner country (its first local partner)."""
    country = proposal.partner_country or (
        proposal.local_partner.country if proposal.local_partner else None
    )
    return dac_income_groups().get(country) if country else None


def rate_for(proposal, call) -> Decimal:
    """The co-financing rate for this proposal: by its partner country's income group when the
    call sets one, the call's rate otherwise."""
    group = income_group_of(proposal)
    by_group = call.rate_by_income_group or {}
    if group and by_group.get(group) not in (None, ""):
        return Decimal(str(by_group[group])).quantize(CENT)
    return call.cofinancing_rate


def max_by_rate(proposal, call) -> Decimal | None:
    if proposal.total_cost_eur is None:
        return None
    return (proposal.total_cost_eur * rate_for(proposal, call) / Decimal(100)).quantize(CENT)


def max_grant(proposal, call) -> Decimal | None:
    """The most the call allows for this proposal: the lower of rate x total and the ceiling."""
    by_rate = max_by_rate(proposal, call)
    ceiling = ceiling_for(proposal, call)
    return ceiling if by_rate is None else min(by_rate, ceiling)


def grant_problems(
    proposal,
    amount: Decimal | None,
    *,
    not_above: Decimal | None = None,
    not_above_message: str = "",
) -> list[str]:
    """What is wrong with an amount to grant: missing, over the call's rate and ceiling, or
    over a reference amount (the request at selection, the committee's grant in the contract)."""
    if amount is None or amount <= 0:
        return [str(_l("Enter the amount granted."))]
    problems = []
    limit = max_grant(proposal, proposal.call)
    if limit is not None and amount > limit:
        problems.append(
            str(
                _l(
                    "At most %(max)s can be granted (the call's rate and ceiling).",
                    max=euros(limit),
                )
            )
        )
    if not_above is not None and amount > not_above:
        problems.append(not_above_message)
    return problems


def average_turnover(proposal) -> Decimal | None:
    values = [proposal.lead_turnover_1, proposal.lead_turnover_2, proposal.lead_turnover_3]
    if any(v is None for v in values):
        return None
    return (sum(values) / Decimal(3)).quantize(CENT)


def required_turnover(proposal, call) -> Decimal | None:
    """The higher of the call's minimum and its multiple of the requested amount or total cost."""
    base = proposal.requested_eur if call.turnover_base == "requested" else proposal.total_cost_eur
    if base is None:
        return None
    return max(call.min_turnover_eur, (base * call.turnover_multiple).quantize(CENT))


def company_checks(proposal, call, today: date) -> list[Check]:
    """Lead-applicant rules: country, registration age, staff, turnover."""
    checks = []
    country = proposal.lead_country
    checks.append(
        Check(
            "lead_country",
            str(_l("Lead applicant registered in an EU member state")),
            None if not country else country in EU_MEMBER_STATES,
            country_name(country),
        )
    )
    reg = proposal.lead_registration_date
    age = years_between(reg, today) if reg else None
    checks.append(
        Check(
            "company_age",
            str(_l("Registered for at least %(n)s years", n=call.min_company_age_years)),
            None if age is None else age >= call.min_company_age_years,
            "" if age is None else str(_l("registered %(n)s years ago", n=age)),
        )
    )
    staff = proposal.lead_employees
    checks.append(
        Check(
            "employees",
            str(_l("At least %(n)s employees", n=call.min_employees)),
            None if staff is None else staff >= call.min_employees,
            "" if staff is None else str(_l("%(n)s employees", n=staff)),
        )
    )
    average = average_turnover(proposal)
    needed = required_turnover(proposal, call)
    checks.append(
        Check(
            "turnover",
            str(
                _l(
                    "Average turnover of the last three years at least the higher of %(minimum)s "
                    "and %(multiple)s x %(base)s",
                    minimum=euros(call.min_turnover_eur),
                    multiple=format_plain(
                        call.turnover_multiple,
                        0
                        if call.turnover_multiple == call.turnover_multiple.to_integral_value()
                        else 2,
                    ),
                    base=call.turnover_base.title,
                )
            ),
            None if average is None or needed is None else average >= needed,
            ""
            if average is None or needed is None
            else str(
                _l("average %(avg)s, needed %(need)s", avg=euros(average), need=euros(needed))
            ),
        )
    )
    return checks


def amount_checks(proposal, call) -> list[Check]:
    """Co-financing rate, ceiling and a balanced budget."""
    checks = []
    requested = proposal.requested_eur
    by_rate = max_by_rate(proposal, call)
    checks.append(
        Check(
            "rate",
            str(
                _l(
                    "Requested co-financing at most %(rate)s of the total cost",
                    rate=format_percent(rate_for(proposal, call)),
                )
            ),
            None if requested is None or by_rate is None else requested <= by_rate,
            "" if by_rate is None else str(_l("at most %(max)s", max=euros(by_rate))),
        )
    )
    ceiling = ceiling_for(proposal, call)
    checks.append(
        Check(
            "ceiling",
            str(_l("Requested co-financing at most %(ceiling)s", ceiling=euros(ceiling))),
            None if requested is None else requested <= ceiling,
            euros(requested),
        )
    )
    parts = [proposal.requested_eur, proposal.own_contribution_eur, proposal.other_funding_eur]
    total = proposal.total_cost_eur
    balanced = None
    if total is not None and parts[0] is not None and parts[1] is not None:
        balanced = sum(p or Decimal(0) for p in parts) == total
    checks.append(
        Check(
            "budget_balance",
            str(_l("Requested + own contribution + other funding = total cost")),
            balanced,
            "" if balanced is None else euros(sum(p or Decimal(0) for p in parts)),
        )
    )
    return checks


def partner_checks(proposal, call) -> list[Check]:
    """At least one local partner in an eligible country; at most four partners."""
    locals_ = [p for p in proposal.partners if p.is_local]
    eligible = set(call.partner_countries or [])
    in_eligible = [p for p in locals_ if not eligible or p.country in eligible]
    return [
        Check(
            "local_partner",
            str(_l("At least one local partner in an eligible partner country")),
            bool(in_eligible) if proposal.partners else None,
            ", ".join(f"{p.name} ({country_name(p.country)})" for p in locals_),
        ),
        Check(
            "partner_count",
            str(_l("At most four partners")),
            len(proposal.partners) <= 4,
            str(len(proposal.partners)),
        ),
    ]


def sector_check(proposal, call) -> Check:
    allowed = {s.id for s in call.sectors}
    sector = proposal.sector
    return Check(
        "sector",
        str(_l("Sector covered by the call")),
        None if sector is None else (not allowed or sector.id in allowed),
        sector.label if sector else "",
    )


def all_checks(proposal, call, today: date) -> list[Check]:
    """Every rule computable from the data, in the order of the screening checklist."""
    return [
        *company_checks(proposal, call, today),
        *amount_checks(proposal, call),
        *partner_checks(proposal, call),
        sector_check(proposal, call),
    ]
