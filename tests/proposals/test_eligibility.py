"""The eligibility and amount rules of DESIGN section 2, as the call configures them."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tracker.programmes.models import TurnoverBase
from tracker.proposals import eligibility

TODAY = date(2026, 11, 23)


def call(**overrides):
    values = {
        "cofinancing_rate": Decimal("50.00"),
        "ceiling_eur": Decimal("200000.00"),
        "road_haulage_ceiling_eur": Decimal("100000.00"),
        "min_company_age_years": 3,
        "min_employees": 5,
        "min_turnover_eur": Decimal("500000.00"),
        "turnover_multiple": Decimal("3.00"),
        "turnover_base": TurnoverBase.requested,
        "partner_countries": ["VN", "SN"],
        "sectors": [],
        "rate_by_income_group": {},
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def proposal(**overrides):
    values = {
        "lead_country": "LU",
        "lead_registration_date": date(2020, 1, 1),
        "lead_employees": 10,
        "lead_turnover_1": Decimal("900000.00"),
        "lead_turnover_2": Decimal("900000.00"),
        "lead_turnover_3": Decimal("900000.00"),
        "lead_is_road_haulage": False,
        "total_cost_eur": Decimal("300000.00"),
        "requested_eur": Decimal("150000.00"),
        "own_contribution_eur": Decimal("150000.00"),
        "other_funding_eur": None,
        "partners": [SimpleNamespace(name="P", country="VN", is_local=True)],
        "partner_country": "VN",
        "sector": SimpleNamespace(id=1, label="ICT"),
    }
    values.update(overrides)
    item = SimpleNamespace(**values)
    item.local_partner = next((p for p in item.partners if p.is_local), None)
    return item


def outcome(checks, key):
    return next(c for c in checks if c.key == key).ok


@pytest.mark.parametrize(
    ("registered", "expected"),
    [
        (date(2023, 11, 23), True),
        (date(2023, 11, 24), False),
        (date(2010, 1, 1), True),
        (None, None),
    ],
)
def test_company_must_be_registered_for_three_years(registered, expected):
    checks = eligibility.company_checks(proposal(lead_registration_date=registered), call(), TODAY)
    assert outcome(checks, "company_age") is expected


@pytest.mark.parametrize(("staff", "expected"), [(4, False), (5, True), (None, None)])
def test_at_least_five_employees(staff, expected):
    assert (
        outcome(
            eligibility.company_checks(proposal(lead_employees=staff), call(), TODAY), "employees"
        )
        is expected
    )


def test_lead_country_must_be_in_the_eu():
    assert (
        outcome(
            eligibility.company_checks(proposal(lead_country="CH"), call(), TODAY), "lead_country"
        )
        is False
    )
    assert (
        outcome(
            eligibility.company_checks(proposal(lead_country="DE"), call(), TODAY), "lead_country"
        )
        is True
    )


def test_turnover_is_the_higher_of_the_minimum_and_three_times_the_request():
    # 3 x 150,000 = 450,000 < 500,000: the minimum applies.
    assert eligibility.required_turnover(proposal(), call()) == Decimal("500000.00")
    # 3 x 200,000 = 600,000 > 500,000: the multiple applies; an average of 550,000 is too little.
    low = proposal(
        requested_eur=Decimal("200000.00"),
        lead_turnover_1=Decimal("550000.00"),
        lead_turnover_2=Decimal("550000.00"),
        lead_turnover_3=Decimal("550000.00"),
    )
    assert eligibility.required_turnover(low, call()) == Decimal("600000.00")
    assert outcome(eligibility.company_checks(low, call(), TODAY), "turnover") is False


def test_turnover_base_can_be_the_total_cost():
    settings = call(turnover_base=TurnoverBase.total)
    assert eligibility.required_turnover(proposal(), settings) == Decimal("900000.00")
    assert outcome(eligibility.company_checks(proposal(), settings, TODAY), "turnover") is True


def test_rate_and_ceiling():
    over_rate = proposal(
        requested_eur=Decimal("150000.01"), own_contribution_eur=Decimal("149999.99")
    )
    assert outcome(eligibility.amount_checks(over_rate, call()), "rate") is False
    big = proposal(
        total_cost_eur=Decimal("500000.00"),
        requested_eur=Decimal("200000.01"),
        own_contribution_eur=Decimal("299999.99"),
    )
    assert outcome(eligibility.amount_checks(big, call()), "ceiling") is False
    assert outcome(eligibility.amount_checks(proposal(), call()), "ceiling") is True


def test_road_haulage_companies_have_a_lower_ceiling():
    haulier = proposal(
        lead_is_road_haulage=True,
        total_cost_eur=Decimal("300000.00"),
        requested_eur=Decimal("120000.00"),
        own_contribution_eur=Decimal("180000.00"),
    )
    assert eligibility.ceiling_for(haulier, call()) == Decimal("100000.00")
    assert outcome(eligibility.amount_checks(haulier, call()), "ceiling") is False
    assert eligibility.max_grant(haulier, call()) == Decimal("100000.00")


def test_budget_must_balance():
    unbalanced = proposal(own_contribution_eur=Decimal("100000.00"))
    assert outcome(eligibility.amount_checks(unbalanced, call()), "budget_balance") is False
    with_other = proposal(
        own_contribution_eur=Decimal("100000.00"), other_funding_eur=Decimal("50000.00")
    )
    assert outcome(eligibility.amount_checks(with_other, call()), "budget_balance") is True


def test_local_partner_in_an_eligible_country():
    eu_only = proposal(partners=[SimpleNamespace(name="P", country="FR", is_local=False)])
    assert outcome(eligibility.partner_checks(eu_only, call()), "local_partner") is False
    wrong_country = proposal(partners=[SimpleNamespace(name="P", country="BR", is_local=True)])
    assert outcome(eligibility.partner_checks(wrong_country, call()), "local_partner") is False
    assert outcome(eligibility.partner_checks(proposal(), call()), "local_partner") is True


def test_sector_must_be_in_the_call_when_the_call_lists_sectors():
    assert eligibility.sector_check(proposal(), call()).ok is True
    listed = call(sectors=[SimpleNamespace(id=2)])
    assert eligibility.sector_check(proposal(), listed).ok is False
