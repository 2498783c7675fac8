"""The reference decision of DESIGN §8, as constants every peer shares."""

from __future__ import annotations

FIELDS = frozenset(
    {
        "degree",
        "age",
        "graduated_years_ago",
        "has_degree_certificate",
        "social_insurance_months",
        "criminal_record",
    }
)
DEGREES = ("associate", "bachelor", "master", "doctor")
ELIGIBLE = frozenset({"bachelor", "master", "doctor"})
AGE_LIMIT = {"bachelor": 35, "master": 40, "doctor": 45}
MATTER = "talent-reference"
