"""The trust boundary (DESIGN, "Trust"): which facts a caller may give, and which only a source.

In an Engine each authoritative source of the registry is *connected* (the deployment file gives
it an adapter: its facts are gathered, `sources.gather`), *vouched* (the embedding declares that
it supplies that source's facts itself; every audit record says so) or neither. A fact of an
authoritative source that is not vouched is *guarded*: given by the caller it is
`INVALID:<path>` (the message names the source that gives it), so by default
`Engine("rules").decide(…)` refuses a caller's `credit.untrustworthy: false`. Lookup keys
(`applicant.id_number`) are the exception while gathering: the application gives them, and the
source's answer confirms them.

Only the exact nested path can carry a guarded fact into the values: any other spelling (a dotted
key, another case, a key given twice) is an undeclared or duplicated key, which validation
already refuses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from .errors import ConfigError
from .provenance import Origins
from .registry import Registry
from .ruleset import Matter

VOUCH_ALL = "all"
"""`Engine(vouch="all")`: the embedding supplies the facts of every authoritative source."""
Vouch = Collection[str] | Literal["all"]


class Guard(NamedTuple):
    """A fact the caller may not give: its path, the path's keys, and why."""

    path: str
    keys: tuple[str, ...]
    why: str


@dataclass(frozen=True, slots=True)
class Trust:
    """The sources an Engine vouches for and the sources it connects."""

    vouched: frozenset[str] = frozenset()
    connected: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        registry: Registry,
        vouch: Vouch = (),
        connected: Iterable[str] = (),
        named: Iterable[str] = (),
    ) -> Trust:
        """Checked against the registry: only authoritative sources can be vouched for or
        connected, and not both (ConfigError). `named`: the sources the matters name; one the
        registry does not know is taken as authoritative (matters checked in Python against
        another registry): fail safe."""
        authoritative = {s for s in registry if registry.authoritative(s)}
        authoritative |= {s for s in named if s not in registry}
        linked = frozenset(connected)
        if isinstance(vouch, str):
            if vouch != VOUCH_ALL:
                raise ConfigError(
                    f'vouch is a list of source ids or "all", not the string {vouch!r}'
                )
            vouched = frozenset(authoritative) - linked  # every source not connected
        else:
            vouched = frozenset(vouch)
        problems = [
            f"{s!r} is not an authoritative source of the registry{_hint(s, registry)}"
            for s in sorted(vouched | linked)
            if s not in authoritative
        ]
        problems += [
            f"{s!r} is both vouched for and connected: its facts come from one or the other"
            for s in sorted(vouched & linked)
        ]
        if problems:
            raise ConfigError("; ".join(problems))
        return cls(vouched, linked)

    def guards(self, matter: Matter, registry: Registry) -> tuple[Guard, ...]:
        """The input facts of a matter version the caller may not give."""
        out = []
        for path, spec in matter.inputs.items():
            source = spec.source or "applicant"
            known_plain = source in registry and not registry.authoritative(source)
            if known_plain or source in self.vouched:
                continue
            if source in self.connected:
                why = f"given only by {source}, through its adapter (decide with gather=True)"
            else:
                why = f"given only by {source}, which this engine neither connects nor vouches for"
            out.append(Guard(path, tuple(path.split(".")), why))
        return tuple(out)

    def origins(self, matter: Matter) -> Origins:
        """The origins every ungathered decision of this version shares."""
        declared = {path: spec.source or "applicant" for path, spec in matter.inputs.items()}
        used = sorted({s for s in declared.values() if s in self.vouched})
        return Origins(declared=declared, vouched=tuple(used))


def _hint(source: str, registry: Registry) -> str:
    from difflib import get_close_matches

    candidates = [s for s in registry if s != source and registry.authoritative(s)]
    near = get_close_matches(source, candidates, n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def given(facts: Any, keys: tuple[str, ...]) -> bool:
    """Whether an application holds a value (null included) at exactly this nested path."""
    node = facts
    for key in keys:
        if node.__class__ is not dict or key not in node:
            return False
        node = node[key]
    return True


def refuse(
    facts: Any, guards: tuple[Guard, ...], values: dict[str, Any], invalid: dict[str, str]
) -> None:
    """Take every guarded fact the application gives out of the values, as invalid."""
    for path, keys, why in guards:
        if given(facts, keys):
            values.pop(path, None)
            invalid.setdefault(path, why)


def refused(facts: Any, guards: tuple[Guard, ...]) -> Mapping[str, str]:
    """The guarded facts an application gives, and why each is refused."""
    return {path: why for path, keys, why in guards if given(facts, keys)}
