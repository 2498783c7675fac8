"""One partition of an impact run decided under both rule sets: the work of one Dask task.

`run_part(job, part)` is a pure function of its arguments and the files they name: it opens the
job's rule sets once per process (`rulesets.snapshot_of`), decides each application under NEW and
under the baseline — or each verified audit record under NEW, against its recorded outcome or the
baseline — and returns the partition's counts and its flipped cases in input order. Deciding the
same partition twice gives the same result, so a partition a lost worker held is decided again
elsewhere without changing the run's result.

Applications are decided with `Engine.decide_many`, grouped by matter and day (each application
on its own `on`, or every one on the run's `--on`); a `--deployment` file connects the sources a
file's facts are looked up from (a `table` adapter), and `--vouch` names those it holds itself.
Records are decided with the replay's `Replayer.decide_under`: from recorded values and their
provenance, never asking a source again; a rule that reads personal data needs the original
application (`--facts`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import resource
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from ..audit.lossless import lossless_json
from ..audit.mask import Tree, mask_application
from ..audit.replay import Replayer, Undecided
from ..audit.rule_texts import RuleIndex
from ..decision import Decision
from ..engine import Engine
from ..jsonfile import load as load_json
from ..lang.parser import parse_iso_date
from ..paths import nest
from ..ruleset import Matter
from ..snapshot import RuleSetSnapshot
from ..status import STATUS_OF
from ..trust import Vouch
from .compare import Change, Side, Tally, change, changed_rules, charged_reasons
from .inputs import Application, FilePart, Part, RecordPart, read_part
from .rulesets import ShippedRules, snapshot_of


@dataclasses.dataclass(frozen=True, slots=True)
class Job:
    """What every partition of a run is decided with (sent to each worker once)."""

    new: ShippedRules
    baseline: ShippedRules | None = None
    """None: records are compared with their recorded outcome (application files need one)."""
    on: dt.date | None = None
    """Every application decided on this day; None: on its own date (as recorded)."""
    vouch: tuple[str, ...] = ()
    deployment: str | None = None
    originals: str | None = None
    """A JSON file {decision_id: facts} of the original applications of audit records."""
    key: bytes | None = dataclasses.field(default=None, repr=False)
    """The audit key the originals are checked against (the records' keyed facts digest)."""

    @property
    def vouched(self) -> Vouch:
        return "all" if self.vouch == ("all",) else self.vouch


@dataclasses.dataclass(frozen=True, slots=True)
class PartResult:
    """What deciding one partition gave."""

    index: int
    rows: int
    counts: dict[tuple[str, ...], int]
    flips: list[dict[str, Any]]
    peak_kib: int
    """The deciding process's peak resident memory (KiB) when it finished the partition."""
    worker: int
    """The deciding process's id."""


FLIP_FIELDS = (
    "input",
    "row",
    "id",
    "matter",
    "on",
    "change",
    "old_outcome",
    "new_outcome",
    "old_reasons",
    "new_reasons",
    "rules",
    "facts",
)
"""The columns of a flipped case, in order (`report.FLIP_SCHEMA` types them)."""


def run_part(job: Job, part: Part) -> PartResult:
    """Decide one partition (see the module's text)."""
    deciders = _deciders(job)
    tally = Tally()
    if isinstance(part, FilePart):
        flips = deciders.applications(part.path, read_part(part), tally)
    else:
        flips = deciders.records(part, tally)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return PartResult(part.index, part.rows, dict(tally.counts), flips, peak, os.getpid())


_LOCK = threading.Lock()
_DECIDERS: dict[tuple[Any, ...], _Deciders] = {}


def _deciders(job: Job) -> _Deciders:
    """The engines of a job, built once per process."""
    key = (
        job.new.digest,
        job.baseline.digest if job.baseline else None,
        job.on,
        job.vouch,
        job.deployment,
        job.originals,
        job.key,
    )
    with _LOCK:
        found = _DECIDERS.get(key)
        if found is None:
            found = _DECIDERS[key] = _Deciders(job)
        return found


class _Deciders:
    def __init__(self, job: Job) -> None:
        self.on = job.on
        self.gather = job.deployment is not None
        self.new_rules = snapshot_of(job.new)
        self.old_rules = snapshot_of(job.baseline) if job.baseline else None
        self.new = self._engine(self.new_rules, job)
        self.old = self._engine(self.old_rules, job) if self.old_rules else None
        originals = load_json(job.originals) if job.originals else None
        self.replayer = Replayer(RuleIndex(()), applications=originals, key=job.key)
        self.trees: dict[tuple[str, dt.date], Tree] = {}
        self.rule_ids: dict[str, tuple[str, ...]] = {}

    @staticmethod
    def _engine(rules: RuleSetSnapshot, job: Job) -> Engine:
        return Engine(snapshot=rules, vouch=job.vouched, deployment=job.deployment)

    # ---- application files ----
    def applications(
        self, name: str, apps: Sequence[Application], tally: Tally
    ) -> list[dict[str, Any]]:
        assert self.old is not None  # the command refuses application files without a baseline
        groups: dict[tuple[str, dt.date], list[int]] = {}
        for i, app in enumerate(apps):
            groups.setdefault((app.matter, self.on or app.on), []).append(i)
        flips: list[tuple[int, dict[str, Any]]] = []
        for (matter, day), rows in groups.items():
            pairs = self._pairs(matter, [apps[i].facts for i in rows], day)
            if isinstance(pairs, str):
                for _ in rows:
                    tally.undecided(matter, pairs)
                continue
            new_rules, old_rules = (
                self._rule_ids(self.new, matter, day),
                self._rule_ids(self.old, matter, day),
            )
            for i, (now, was) in zip(rows, pairs, strict=True):
                app = apps[i]
                flip = self._compared(
                    tally, matter, day, _side(was, old_rules), _side(now, new_rules)
                )
                if flip is not None:
                    shown = self._masked(matter, day, app.facts)
                    flips.append(
                        (i, {"input": name, "row": app.row, "id": app.id, **flip, "facts": shown})
                    )
        flips.sort(key=lambda f: f[0])
        return [f for _, f in flips]

    def _pairs(
        self, matter: str, facts: list[Any], day: dt.date
    ) -> list[tuple[Decision, Decision]] | str:
        """(NEW, OLD) decisions of a batch; why not, when a rule set lacks the matter."""
        assert self.old is not None
        for engine, which in ((self.new, "new"), (self.old, "baseline")):
            if matter not in engine.matters:
                return f"no such matter in the {which} rules"
        if self.gather:  # facts looked up: each engine gathers (and checks) its own
            new = self.new.decide_many(matter, facts, on=day, gather=True)
            old = self.old.decide_many(matter, facts, on=day, gather=True)
            return list(zip(new, old, strict=True))
        return self.new.decide_pairs(self.old, matter, facts, on=day)

    def _ids_of(self, version: Matter) -> tuple[str, ...]:
        """A version's rule ids in order (its decisions' statuses), once per version."""
        ids = self.rule_ids.get(version.digest)
        if ids is None:
            ids = self.rule_ids[version.digest] = tuple(r.id for r in version.rules)
        return ids

    def _rule_ids(self, engine: Engine, matter: str, day: dt.date) -> tuple[str, ...]:
        """The ids of the rules of the version in force, in order (its decisions' statuses)."""
        version = engine.version_on(matter, day)
        return self._ids_of(version) if version is not None else ()

    def _masked(self, matter: str, day: dt.date, facts: Any) -> str:
        tree = self.trees.get((matter, day))
        if tree is None:
            version = self.new.version_on(matter, day) or (
                self.old.version_on(matter, day) if self.old else None
            )
            specs = version.spec.facts if version is not None else {}
            tree = nest({p: f.pii for p, f in specs.items() if f.derive is None})
            self.trees[matter, day] = tree
        return lossless_json(mask_application(facts, tree)).decode("utf-8")

    # ---- audit records ----
    def records(self, part: RecordPart, tally: Tally) -> list[dict[str, Any]]:
        flips = []
        for line, text in zip(part.lines, part.records, strict=True):
            doc = orjson.loads(text)
            matter = str(doc["matter"])
            day = self.on or parse_iso_date(str(doc["on"]))
            now = self._record_under(self.new_rules, "new", doc, day)
            was = (
                _recorded(doc)
                if self.old_rules is None
                else self._record_under(self.old_rules, "baseline", doc, day)
            )
            if isinstance(now, str) or isinstance(was, str):
                tally.undecided(matter, now if isinstance(now, str) else str(was))
                continue
            flip = self._compared(tally, matter, day, was, now)
            if flip is not None:
                shown = orjson.dumps(doc.get("facts"), option=orjson.OPT_SORT_KEYS).decode()
                flips.append(
                    {
                        "input": part.log,
                        "row": line,
                        "id": str(doc["decision_id"]),
                        **flip,
                        "facts": shown,
                    }
                )
        return flips

    def _record_under(
        self, rules: RuleSetSnapshot, which: str, doc: Mapping[str, Any], day: dt.date
    ) -> Side | str:
        matter = str(doc["matter"])
        if matter not in rules.matters:
            return f"no such matter in the {which} rules"
        span = rules.span_on(matter, day)
        if span is None:
            return _side(Decision.no_version(str(doc["decision_id"]), day, rules.digest), ())
        decided = self.replayer.decide_under(span.compiled.matter, doc, day)
        if isinstance(decided, Undecided):
            return decided.verdict
        return _side(decided, self._ids_of(span.compiled.matter))

    @staticmethod
    def _compared(
        tally: Tally, matter: str, day: dt.date, was: Side, now: Side
    ) -> dict[str, Any] | None:
        kind: Change = change(was, now)
        tally.decided(matter, kind)
        if kind in ("same", "reasons-changed"):
            return None
        rules = changed_rules(was, now)
        tally.flip(matter, day.isoformat(), kind, rules, charged_reasons(kind, was, now))
        return {
            "matter": matter,
            "on": day,
            "change": kind,
            "old_outcome": str(was.outcome),
            "new_outcome": str(now.outcome),
            "old_reasons": list(was.codes()),
            "new_reasons": list(now.codes()),
            "rules": rules,
        }


def _side(decision: Decision, rules: tuple[str, ...]) -> Side:
    """A decision as compared: `rules` are its version's rule ids, in the order of its
    statuses (its results, without building them)."""
    return Side(
        decision.outcome,
        lambda: decision.codes,
        lambda: dict(zip(rules, (_STATUS[c] for c in decision.statuses), strict=True)),
    )


_STATUS = tuple(str(s) for s in STATUS_OF)


def _recorded(doc: Mapping[str, Any]) -> Side:
    codes = tuple(str(c) for c in doc["reasons"])
    results = {str(r["rule"]): str(r["status"]) for r in doc.get("results") or ()}
    return Side(str(doc["outcome"]), _const(codes), _const(results))


def _const(value: Any) -> Callable[[], Any]:
    return lambda: value
