"""The floor for a bundled matter: graduate-hukou-shenzhen hand-written in plain Python.

Strict validation by hand (exact JSON types, no undeclared key, every required fact present, the
citizen ID checked with the same python-stdnum functions, ISO dates, each credit penalty a record
of exactly its two fields), then the twelve rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from secondapproval.idcodes import check_cn_id, cn_id_birth_date
from secondapproval.lang.functions import add_years
from secondapproval.lang.parser import parse_iso_date

MATTER = "graduate-hukou-shenzhen"
LEVELS = frozenset({"secondary", "associate", "bachelor", "master", "doctor"})
ELIGIBLE = frozenset({"associate", "bachelor", "master", "doctor"})
CERTIFICATES = frozenset({"issued-to-shenzhen", "issued-elsewhere", "not-issued"})
ADDRESSES = frozenset(
    {
        "own-or-relative-property",
        "spouse-household",
        "relative-household",
        "spouse-employer-collective",
        "employer-collective",
        "talent-collective",
    }
)
GROUPS = {
    "applicant": ({"id_number", "name"}, {"phone"}),
    "education": (
        {"level", "full_time", "regular_institution", "certificate_verified", "graduated_on"},
        set(),
    ),
    "employment": ({"report_certificate"}, set()),
    "declaration": ({"good_health", "no_banned_organisations"}, set()),
    "record": ({"criminal"}, set()),
    "credit": ({"untrustworthy", "penalties"}, set()),
    "settlement": ({"address_type", "file_moves_with_hukou"}, set()),
}
BOOLS = {
    "education": ("full_time", "regular_institution", "certificate_verified"),
    "declaration": ("good_health", "no_banned_organisations"),
    "record": ("criminal",),
    "credit": ("untrustworthy",),
    "settlement": ("file_moves_with_hukou",),
}


PENALTY_FIELDS = frozenset({"decided_on", "serious"})


def penalty_dates(penalties: Any) -> list[tuple[dt.date, bool]] | None:
    """Each penalty's decision date and seriousness, or None if any item is not valid."""
    if type(penalties) is not list:
        return None
    out = []
    for p in penalties:
        if type(p) is not dict or p.keys() != PENALTY_FIELDS or type(p["serious"]) is not bool:
            return None
        day = p["decided_on"]
        if type(day) is not str or len(day) != 10:
            return None
        try:
            out.append((dt.date.fromisoformat(day), p["serious"]))
        except ValueError:
            return None
    return out


def recent(penalties: list[tuple[dt.date, bool]], on: dt.date) -> bool:
    """A penalty still published: decided at most a year before (three if serious), counted back
    from the decision date as the rule does."""
    return any(day >= add_years(on, -3 if serious else -1) for day, serious in penalties)


def valid(app: Any, on: dt.date) -> bool:
    """Every required fact present and of its exact type, nothing undeclared, ID and date real."""
    if type(app) is not dict or app.keys() != GROUPS.keys():
        return False
    for group, (required, optional) in GROUPS.items():
        node = app[group]
        if type(node) is not dict or not required <= node.keys() <= required | optional:
            return False
    for group, names in BOOLS.items():
        if any(type(app[group][n]) is not bool for n in names):
            return False
    a, e = app["applicant"], app["education"]
    phone = a.get("phone")  # optional; a null is an absent fact
    if type(a["name"]) is not str or (phone is not None and type(phone) is not str):
        return False
    if e["level"] not in LEVELS or type(e["level"]) is not str:
        return False
    certificate = app["employment"]["report_certificate"]
    address = app["settlement"]["address_type"]
    if type(certificate) is not str or certificate not in CERTIFICATES:
        return False
    if type(address) is not str or address not in ADDRESSES:
        return False
    try:
        check_cn_id(a["id_number"])
        if type(e["graduated_on"]) is not str:
            return False
        parse_iso_date(e["graduated_on"])
    except ValueError:
        return False
    return (
        cn_id_birth_date(a["id_number"]) <= on
        and penalty_dates(app["credit"]["penalties"]) is not None
    )


def decide(app: Any, on: dt.date) -> bool:
    """Hand-written validation and the twelve rules."""
    if not valid(app, on):
        return False
    e = app["education"]
    graduated = parse_iso_date(e["graduated_on"])
    return (
        e["level"] in ELIGIBLE
        and e["full_time"]
        and e["regular_institution"]
        and e["certificate_verified"]
        and graduated <= on <= add_years(graduated, 2)
        and app["employment"]["report_certificate"] == "issued-to-shenzhen"
        and app["declaration"]["good_health"]
        and app["declaration"]["no_banned_organisations"]
        and not app["record"]["criminal"]
        and not app["credit"]["untrustworthy"]
        and not recent(penalty_dates(app["credit"]["penalties"]) or [], on)
        and app["settlement"]["file_moves_with_hukou"]
    )
