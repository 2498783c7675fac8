"""`Decision.codes`, computed without building Reason objects, matches `Decision.reasons`."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from reference import REFERENCE, RULES, engine_over
from secondapproval.benchgen import applications

ON = dt.date(2020, 1, 1)


@pytest.mark.parametrize("rules", [REFERENCE, RULES])
def test_codes_are_the_codes_of_the_reasons(rules: Path) -> None:
    """On valid and broken generated applications, codes == the codes of reasons, in order."""
    engine = engine_over(rules)
    for matter_id in engine.matters:
        matter = engine.versions(matter_id)[-1]
        on = max(matter.spec.effective.from_, ON)
        apps = applications(matter, on=on, seed=4, broken=0.1, extra=0.05)
        for app in itertools.islice(apps, 300):
            decision = engine.decide(matter_id, app, on=on)
            assert decision.codes == tuple(r.code for r in decision.reasons)
            fresh = engine.decide(matter_id, app, on=on)  # codes read before reasons
            assert fresh.codes == decision.codes
        nothing = engine.decide(matter_id, {}, on=dt.date(1900, 1, 1))
        assert nothing.codes == tuple(r.code for r in nothing.reasons) == ("NO_VERSION",)
