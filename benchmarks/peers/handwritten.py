"""The floor: the reference decision hand-written in plain Python, with and without pydantic."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, StrictBool, StrictInt, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from . import Peer
from .reference import AGE_LIMIT, ELIGIBLE, FIELDS


def checks(v: dict[str, Any]) -> tuple[bool, bool, bool, bool, bool, bool]:
    """The six rules on valid facts (an ineligible degree fails the age rule too)."""
    return (
        v["degree"] in ELIGIBLE,
        v["age"] <= AGE_LIMIT.get(v["degree"], -1),
        v["graduated_years_ago"] <= 2,
        v["has_degree_certificate"],
        v["social_insurance_months"] >= 0,
        not v["criminal_record"],
    )


def valid(app: Any) -> bool:
    """Strict validation by hand: every field present, of its exact JSON type, no other key."""
    return (
        type(app) is dict
        and app.keys() == FIELDS
        and type(app["degree"]) is str
        and type(app["age"]) is int
        and type(app["graduated_years_ago"]) is int
        and type(app["has_degree_certificate"]) is bool
        and type(app["social_insurance_months"]) is int
        and type(app["criminal_record"]) is bool
    )


def decide(app: Any) -> bool:
    """Hand-written validation and checks."""
    return valid(app) and all(checks(app))


class Reference(TypedDict):
    degree: Literal["associate", "bachelor", "master", "doctor"]
    age: StrictInt
    graduated_years_ago: StrictInt
    has_degree_certificate: StrictBool
    social_insurance_months: StrictInt
    criminal_record: StrictBool
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]


ADAPTER: TypeAdapter[Reference] = TypeAdapter(Reference)


def decide_pydantic(app: Any) -> bool:
    """The same checks behind the same kind of strict pydantic validation secondapproval uses."""
    try:
        v = ADAPTER.validate_python(app)
    except ValidationError:
        return False
    return all(checks(v))  # type: ignore[arg-type]


PEER = Peer("hand-written", decide, "strict isinstance checks by hand")
PEER_PYDANTIC = Peer("hand-written + pydantic", decide_pydantic, "strict TypeAdapter(TypedDict)")
