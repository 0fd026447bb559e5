"""A realistic history for the demo BPF, loaded through the historical import.

It reproduces the published figures: 5 projects selected in 2020 taking the total to 30, 4 in
2021 taking it to 34, 39 by 2023 and 44 by 2024, with rejected and withdrawn proposals around
them, sectors as the calls opened them over the years, partner countries from the priority list
and amounts within the rules. Everything is generated from a fixed seed, so every demo is the same.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from decimal import Decimal

from tracker.core.countries import BPF_PRIORITY_COUNTRIES
from tracker.imports import operations as ops

# Selected per year: 25 by 2019, then 30, 34, 36, 39, 44, 47.
SELECTED_PER_YEAR = {
    2016: 6,
    2017: 7,
    2018: 6,
    2019: 6,
    2020: 5,
    2021: 4,
    2022: 2,
    2023: 3,
    2024: 5,
    2025: 3,
}
REJECTED_PER_YEAR = {
    2016: 9,
    2017: 11,
    2018: 12,
    2019: 10,
    2020: 14,
    2021: 13,
    2022: 16,
    2023: 15,
    2024: 14,
    2025: 12,
}
WITHDRAWN_PER_YEAR = {year: 1 + year % 3 for year in SELECTED_PER_YEAR}

# The sectors each year's call added (DESIGN section 2); from 2022 any SDG-serving sector.
SECTORS_ADDED = {
    2016: ["biohealth", "ict", "fintech", "eco-innovation"],
    2018: ["circular-economy", "logistics"],
    2020: ["space", "mobility", "cleantech", "healthtech"],
    2021: ["covid-19"],
    2022: ["renewable-energy", "other"],
}
PRIORITY_COUNTRIES = list(BPF_PRIORITY_COUNTRIES)
LATER_COUNTRIES = [*PRIORITY_COUNTRIES, "RW", "KH", "BJ", "TN", "GH"]

LEAD_COMPANIES = [
    ("Luxsolar S.A.", "LU"),
    ("Datavault S.à r.l.", "LU"),
    ("Moselle Analytics S.A.", "LU"),
    ("Kirchberg Fintech S.A.", "LU"),
    ("Ardennes Water Systems S.à r.l.", "LU"),
    ("Orbitale Space S.A.", "LU"),
    ("Gréngt Logistics S.à r.l.", "LU"),
    ("Biolux Diagnostics S.A.", "LU"),
    ("Clervaux Circular S.à r.l.", "LU"),
    ("Alzette Mobility S.A.", "LU"),
    ("MedTrack Europe S.A.", "BE"),
    ("Agrisense GmbH", "DE"),
    ("Solaris Cold Chain SAS", "FR"),
    ("Nordic Payments Oy", "FI"),
    ("Helix Health B.V.", "NL"),
    ("Sûre Energy S.A.", "LU"),
    ("Pétrusse Digital S.à r.l.", "LU"),
    ("Wiltz Microgrids S.A.", "LU"),
]
PARTNER_KINDS = ["Cooperative", "SARL", "Ltd", "University", "Association", "Institute"]
PLACES = {
    "BF": "Ouagadougou",
    "CV": "Praia",
    "ET": "Addis Ababa",
    "ML": "Bamako",
    "NE": "Niamey",
    "SN": "Dakar",
    "LA": "Vientiane",
    "MN": "Ulaanbaatar",
    "MM": "Yangon",
    "VN": "Hanoi",
    "SV": "San Salvador",
    "NI": "Managua",
    "XK": "Pristina",
    "RW": "Kigali",
    "KH": "Phnom Penh",
    "BJ": "Cotonou",
    "TN": "Sfax",
    "GH": "Kumasi",
}
TITLES = {
    "biohealth": ["Rapid malaria diagnostics for rural clinics", "Cold-chain vaccine monitoring"],
    "ict": [
        "Digital land registry pilot",
        "Mobile crop-advice platform",
        "Open school-management software",
    ],
    "fintech": [
        "Mobile micro-insurance for smallholders",
        "Digital savings groups for women traders",
    ],
    "eco-innovation": ["Biogas from agro-food waste", "Low-water textile dyeing"],
    "circular-economy": [
        "Plastic-waste recycling into building tiles",
        "Refurbished electronics hub",
    ],
    "logistics": ["Shared cold storage for fish markets", "Last-mile delivery for pharmacies"],
    "space": ["Satellite flood-risk mapping", "Earth-observation crop insurance"],
    "mobility": ["Electric motorbike taxis", "Solar-charged e-bus pilot"],
    "cleantech": ["Solar irrigation kits", "Clean cookstove production"],
    "healthtech": ["Telemedicine for district hospitals", "Digital patient records for midwives"],
    "covid-19": [
        "Oxygen concentrator maintenance network",
        "Local production of protective equipment",
    ],
    "renewable-energy": ["Solar mini-grids for island villages", "Micro-hydro for tea estates"],
    "other": ["Skills academy for solar technicians", "Fair-trade coffee traceability"],
}


def sectors_for(year: int) -> list[str]:
    """The sectors open in a year: everything added up to then (COVID-19 only in 2021)."""
    sectors = [s for added, keys in SECTORS_ADDED.items() if added <= year for s in keys]
    return [s for s in sectors if s != "covid-19" or year == 2021]


def calls_for(year: int) -> list[tuple[str, date, date]]:
    """One call a year before the 2022 reform, two after: (title, submission window)."""
    if year < 2022:
        return [(f"BPF call {year}", date(year, 2, 1), date(year, 4, 30))]
    return [
        (f"BPF call {year}-1", date(year, 1, 15), date(year, 3, 31)),
        (f"BPF call {year}-2", date(year, 6, 15), date(year, 8, 31)),
    ]


def rows(seed: int = 2016) -> list[dict[str, str]]:
    """The demo's historical proposals, as import rows."""
    rnd = random.Random(seed)
    result = []
    for year in SELECTED_PER_YEAR:
        outcomes = (
            ["selected"] * SELECTED_PER_YEAR[year]
            + ["rejected"] * REJECTED_PER_YEAR[year]
            + ["withdrawn"] * WITHDRAWN_PER_YEAR[year]
        )
        rnd.shuffle(outcomes)
        calls = calls_for(year)
        countries = PRIORITY_COUNTRIES if year <= 2019 else LATER_COUNTRIES
        for number, outcome in enumerate(outcomes, start=1):
            title_call, opens, closes = calls[number % len(calls)]
            submitted = opens + timedelta(days=rnd.randrange((closes - opens).days + 1))
            sector = rnd.choice(sectors_for(year))
            country = rnd.choice(countries)
            lead, lead_country = rnd.choice(LEAD_COMPANIES)
            total = Decimal(rnd.randrange(160, 900)) * 1000
            requested = min((total / 2).quantize(Decimal("1")), Decimal(200_000))
            row = {
                "reference": f"BPF-{year}-{number:03d}",
                "programme": "BPF",
                "call": title_call,
                "title": rnd.choice(TITLES[sector]) + f" in {PLACES[country]}",
                "lead_organisation": lead,
                "lead_country": lead_country,
                "partner_organisation": f"{PLACES[country]} {rnd.choice(PARTNER_KINDS)}",
                "partner_country": country,
                "sector": sector,
                "total_budget_eur": f"{total:.2f}",
                "requested_eur": f"{requested:.2f}",
                "submitted_on": submitted.isoformat(),
                "outcome": outcome,
                "decided_on": "",
                "granted_eur": "",
                "contracted_on": "",
                "hrdd_category": "",
            }
            decided = closes + timedelta(days=rnd.randrange(60, 120))
            if outcome == "rejected":
                row["decided_on"] = decided.isoformat()
            elif outcome == "withdrawn":
                row["decided_on"] = (submitted + timedelta(days=rnd.randrange(10, 50))).isoformat()
            else:
                granted = (
                    requested
                    if rnd.random() < 0.7
                    else (requested * Decimal("0.9")).quantize(Decimal("1"))
                )
                row["granted_eur"] = f"{granted:.2f}"
                row["decided_on"] = decided.isoformat()
                if year >= 2020:
                    row["hrdd_category"] = rnd.choice("BBBCC" if year < 2023 else "ABBBCC")
                if year < 2025 or rnd.random() < 0.5:
                    # Some agreements are signed the next year, which the report shows.
                    signed = decided + timedelta(days=rnd.randrange(30, 150))
                    row["outcome"] = "contracted"
                    row["contracted_on"] = signed.isoformat()
                else:
                    row["outcome"] = "selected"
            result.append(row)
    return result


def as_csv(items: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ops.COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(items)
    return buffer.getvalue()


def load_demo_history() -> int:
    """Import the demo history (a second call finds everything already there and does nothing)."""
    plan = ops.plan_import(as_csv(rows()))
    if not plan.ok:  # pragma: no cover - the generator is tested
        raise RuntimeError(
            "the demo history does not import: " + "; ".join(map(str, plan.errors[:5]))
        )
    ops.execute(plan)
    return len(plan.create)
