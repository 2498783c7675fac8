"""The durable backend: each matter version compiled to one durable_rules (Rete) ruleset.

Independent of the native backend: it shares only the IR, the interpreter (which computes the
hoisted values, see `hoist`) and the function library. Per rule, durable rules for *passed*,
*failed* and *error* (see `conditions`); none firing means *unknown*. Per decision the valid
facts and hoisted values are asserted as one fact under a fresh session id, the actions that fire
record the statuses, and the session's state is deleted.

durable_rules' weaknesses are contained here: its `Host` is process-global and polls every
ruleset from background timer threads, so no `Host` is ever created — rulesets are built directly,
named per backend instance, matter, version and compilation, and deleted when their evaluator is
garbage-collected; its C library keeps process-global tables without locks, so every call into it
holds one process-wide lock; its exceptions become `RuleSetError` at load time and
`BackendError` (which the Engine turns into a refer) at decision time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import itertools
import secrets
import threading
import weakref
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import durable_rules_engine  # type: ignore[import-not-found]
from durable.engine import MessageNotHandledException, Ruleset

from ..errors import BackendError, Problem, RuleSetError
from ..lang import ir
from ..lang.interpret import Interpreter
from ..lang.kleene import ERROR_VALUE, UNKNOWN_VALUE
from ..ruleset import Matter
from ..status import ERROR, FAILED, PASSED, UNKNOWN
from .conditions import DNF, Builder, Check, TooComplexError, has_error_state
from .encode import encode
from .hoist import Hoister, Slot
from .network import MAX_TESTS, chain, condition, fanout_problem, fnv1a

VERSION = "1+durable_rules-" + importlib.metadata.version("durable_rules")

MAX_ALTERNATIVES = 256
"""Alternatives (durable rules) one state of one rule may need before the rule is refused."""
MAX_SLOTS = 240
"""durable_rules refuses messages with more than 255 properties."""

LOCK = threading.RLock()
"""Serializes every call into durable_rules' C library, whose tables are process-global."""

_CONFLICT = -1
_RESERVED = ("sid", "id", "o", "$s")


class _Collector:
    """The statuses the firing actions report for the decision under way (one at a time)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.fired: list[int | None] = [None] * count

    def reset(self) -> None:
        self.fired = [None] * self.count

    def action(self, index: int, status: int) -> Callable[[Any], None]:
        def record(_closure: Any) -> None:
            seen = self.fired[index]
            if seen is None or seen == ERROR:
                self.fired[index] = status  # passed or failed outrank the error condition
            elif status not in (ERROR, seen):
                self.fired[index] = _CONFLICT

        return record

    def statuses(self) -> tuple[int, ...]:
        return tuple(UNKNOWN if s is None else ERROR if s == _CONFLICT else s for s in self.fired)


def _alive(_closure: Any) -> None:
    """The action of the rule that matches every decision's message."""


def _delete_ruleset(handle: int) -> None:
    with LOCK:
        durable_rules_engine.delete_ruleset(handle)


class DurableEvaluator:
    """Decides applications of one matter version with its durable_rules ruleset."""

    def __init__(
        self,
        matter: Matter,
        name: str,
        slots: list[Slot],
        definition: dict[str, Any],
        collector: _Collector,
    ) -> None:
        self.matter = matter
        self.name = name
        self._slots = tuple(slots)
        self._collector = collector
        self._sessions = itertools.count(1)
        try:
            with LOCK:
                self._ruleset = Ruleset(name, None, definition)
        except Exception as exc:
            raise RuleSetError(
                [
                    Problem(
                        f"durable_rules refused the rule set of matter {matter.id!r}: {exc}",
                        matter.file,
                    )
                ]
            ) from None
        finalizer = weakref.finalize(self, _delete_ruleset, self._ruleset._handle)
        finalizer.atexit = False

    def __call__(
        self, values: dict[str, Any], on: dt.date
    ) -> tuple[tuple[int, ...], frozenset[str]]:
        errors: frozenset[str] = frozenset()
        for d in self.matter.derived:
            x = Interpreter(values, on, errors).eval(d.expr)
            if isinstance(x, Fraction):  # no exact decimal value: see `numbers.settled`
                x = ERROR_VALUE
            if x is ERROR_VALUE:
                errors = errors | {d.path}
            elif x is not UNKNOWN_VALUE:
                values[d.path] = x
        message = self._message(values, on, errors)
        with LOCK:
            sid = f"{next(self._sessions)}"
            message["sid"] = sid
            self._collector.reset()
            try:
                self._post(message)
            except MessageNotHandledException:
                # cannot happen (the `alive` rule matches every message); durable_rules crashes
                # if a session that was never created is deleted, so nothing is deleted here
                raise BackendError(
                    f"durable_rules did not handle a decision of "
                    f"{self.matter.id}@{self.matter.version}"
                ) from None
            except Exception as exc:
                with contextlib.suppress(BackendError):  # the session may not exist
                    self._delete_state(sid)
                raise BackendError(
                    f"durable_rules failed deciding {self.matter.id}@{self.matter.version}: {exc}"
                ) from None
            self._delete_state(sid)
            return self._collector.statuses(), errors

    def _message(
        self, values: dict[str, Any], on: dt.date, errors: frozenset[str]
    ) -> dict[str, Any]:
        interpreter = Interpreter(values, on, errors)
        message: dict[str, Any] = {"id": "f", "o": 1}
        for slot in self._slots:
            x = interpreter.eval(slot.node)
            if x is ERROR_VALUE:
                message[slot.error_key] = 1
            elif x is not UNKNOWN_VALUE:
                message[slot.key] = encode(x)
        return message

    def _post(self, message: dict[str, Any]) -> None:
        state = self._ruleset.assert_fact(message)
        failures: list[BaseException] = []

        def done(error: BaseException | None, _state: Any) -> None:
            if error:
                failures.append(error)

        self._ruleset.do_actions(state, done)
        if failures:
            raise BackendError(f"durable_rules action failed: {failures[0]}")

    def _delete_state(self, sid: str) -> None:
        try:
            self._ruleset.delete_state(sid)
        except Exception as exc:
            raise BackendError(f"durable_rules could not delete session {sid}: {exc}") from None


class DurableBackend:
    """durable_rules (Rete), the independent second engine the native backend is checked against."""

    name = "durable"
    version = VERSION

    def __init__(self) -> None:
        self._token = secrets.token_hex(4)
        self._compilations = itertools.count(1)

    def compile(self, matter: Matter) -> DurableEvaluator:
        hoister = Hoister(frozenset(matter.inputs))
        builder = Builder(MAX_ALTERNATIVES)
        collector = _Collector(len(matter.rules))
        definition: dict[str, Any] = {}
        conjunctions: list[frozenset[Check]] = []
        problems: list[Problem] = []
        for i, rule in enumerate(matter.rules):
            logic = hoister.logic(rule.expr)
            where = f"rules.{i}.when"
            try:
                states: list[tuple[str, int, DNF]] = [
                    ("passed", PASSED, builder.passed(logic)),
                    ("failed", FAILED, builder.failed(logic)),
                ]
                if has_error_state(logic):
                    states.append(("error", ERROR, builder.error(logic)))
            except TooComplexError as exc:
                problems.append(
                    Problem(
                        f"rule {rule.id!r}: the durable backend cannot express "
                        f"`{ir.render(rule.expr)}`: its conditions need {exc}",
                        matter.file,
                        field=where,
                    )
                )
                continue
            for state, status, dnf in states:
                for j, conj in enumerate(sorted(dnf, key=lambda c: sorted(map(repr, c)))):
                    if len(conj) > MAX_TESTS:
                        problems.append(
                            Problem(
                                f"rule {rule.id!r}: the durable backend cannot express "
                                f"`{ir.render(rule.expr)}`: one of its {state} conditions needs "
                                f"{len(conj)} tests (durable_rules holds at most {MAX_TESTS})",
                                matter.file,
                                field=where,
                            )
                        )
                        break
                    conjunctions.append(conj)
                    definition[f"r{i}.{state}.{j}"] = {
                        "all": [{"m": condition(conj)}],
                        "run": collector.action(i, status),
                    }
        # durable_rules crashes deleting a session whose message no rule matched, so one rule
        # matches every message; its action records nothing
        definition["alive"] = {"all": [{"m": {"o": 1}}], "run": _alive}
        chains = [chain(c) for c in conjunctions] + [chain(frozenset())]
        fanout = fanout_problem(chains)
        if fanout:
            problems.append(
                Problem(
                    f"matter {matter.id!r}: the durable backend cannot hold its rules: {fanout}",
                    matter.file,
                )
            )
        problems += self._slot_problems(matter, hoister.slots)
        if problems:
            raise RuleSetError(problems)
        name = (
            f"secondapproval.{self._token}.{next(self._compilations)}:{matter.id}@{matter.version}"
        )
        return DurableEvaluator(matter, name, hoister.slots, definition, collector)

    @staticmethod
    def _slot_problems(matter: Matter, slots: list[Slot]) -> list[Problem]:
        if len(slots) > MAX_SLOTS:
            return [
                Problem(
                    f"matter {matter.id!r}: the durable backend posts {len(slots)} values "
                    f"per decision, more than durable_rules holds ({MAX_SLOTS})",
                    matter.file,
                )
            ]
        names = [*_RESERVED, *(s.key for s in slots), *(s.error_key for s in slots)]
        hashes = [fnv1a(n) for n in names]
        if len(set(hashes)) != len(hashes):
            return [
                Problem(f"matter {matter.id!r}: durable_rules property names collide", matter.file)
            ]
        return []
