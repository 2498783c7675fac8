"""The reference matter of DESIGN §8 as tests use it: its folder, a date, an approvable case."""

import datetime as dt
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "benchmarks" / "matters"
ON = dt.date(2021, 6, 1)
GOOD_REF = {
    "degree": "master",
    "age": 30,
    "graduated_years_ago": 1,
    "has_degree_certificate": True,
    "social_insurance_months": 12,
    "criminal_record": False,
}
