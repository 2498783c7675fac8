"""Generated matters of many rules for the analysis benchmark: `wide_matter(n)` writes a matter of
`n` rules over about `n / 2` facts of every scalar kind into a folder — thresholds, sums of two
facts (so that rules share facts, and implication questions are not trivial), money rates, date
windows, ages from ID numbers, enum memberships and flags — deterministic for a given `n`."""

from __future__ import annotations

import random
from pathlib import Path

import yaml


def _rule(i: int, rng: random.Random, facts: dict[str, dict[str, object]]) -> str:
    k = i // 2  # two rules per fact, on average
    kind = i % 7
    if kind == 0:
        facts[f"a.n{k}"] = {"type": "int", "source": "applicant"}
        return f"a.n{k} >= {rng.randint(1, 50)}"
    if kind == 1:
        facts[f"a.n{k}"] = {"type": "int", "source": "applicant"}
        other = f"a.n{k + 1}"
        facts[other] = {"type": "int", "source": "applicant"}
        return f"a.n{k} + {other} <= {rng.randint(100, 500)}"
    if kind == 2:
        facts[f"a.m{k}"] = {"type": "money", "source": "applicant"}
        return f"a.m{k} * 0.{rng.randint(10, 99)} <= {rng.randint(1000, 9000)}"
    if kind == 3:
        facts[f"a.d{k}"] = {"type": "date", "source": "applicant"}
        return f"days_between(a.d{k}, decision_date) <= {rng.randint(30, 400)}"
    if kind == 4:
        facts[f"a.id{k}"] = {"type": "cn_id", "source": "applicant"}
        return f"age_on(a.id{k}, decision_date) >= {rng.randint(16, 30)}"
    if kind == 5:
        facts[f"a.e{k}"] = {"type": "enum", "values": ["x", "y", "z"], "source": "applicant"}
        return f'a.e{k} in ["x", "{rng.choice("yz")}"]'
    facts[f"a.b{k}"] = {"type": "bool", "source": "applicant"}
    return f"a.b{k}"


def wide_matter(n: int, folder: Path, *, linked: bool = False) -> str:
    """Write the matter of `n` rules into `folder`; its id. `linked`: every rule reads one fact
    more, the household's size, so that no rule is independent of the others (the matter is one
    part, `analysis.parts`), as when every condition reads the applicant's record."""
    rng = random.Random(n)
    facts: dict[str, dict[str, object]] = {}
    if linked:
        facts["a.household"] = {"type": "int", "source": "applicant"}
    rules = []
    for i in range(n):
        when = _rule(i, rng, facts)
        rules.append(
            {
                "id": f"rule-{i}",
                "when": f"({when}) and a.household >= 1" if linked else when,
                "says": {"zh": f"条件{i}", "en": f"Condition {i}"},
                "refer": {"code": f"R{i}", "zh": "不符合", "en": "Not met"},
            }
        )
    matter = f"wide-{n}" + ("-linked" if linked else "")
    doc = {
        "matter": matter,
        "title": {"zh": "生成的事项", "en": f"A generated matter of {n} rules"},
        "version": "1",
        "effective": {"from": "2024-01-01"},
        "facts": facts,
        "rules": rules,
    }
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    (folder / f"{matter}.yaml").write_text(text, encoding="utf-8")
    return matter
