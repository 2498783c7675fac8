"""What a matter version lacks for its guide: `check` lists these as warnings, not failures."""

from __future__ import annotations

from ..errors import Problem
from ..ruleset import Matter


def guide_gaps(matter: Matter) -> tuple[Problem, ...]:
    """The guide fields a matter version leaves out: service_url, office, labels of input facts."""
    spec = matter.spec
    where = f"matter {matter.id!r} version {spec.version!r}"
    gaps: list[Problem] = []
    if spec.service_url is None:
        gaps.append(
            Problem(
                f"{where} has no service_url: its guide has no QR code",
                matter.file,
                None,
                None,
                "service_url",
            )
        )
    if spec.office is None:
        gaps.append(
            Problem(
                f"{where} has no office: its guide names no responsible office",
                matter.file,
                None,
                None,
                "office",
            )
        )
    for path in matter.inputs:
        if spec.facts[path].label is None:
            gaps.append(
                Problem(
                    f"{where}: fact {path!r} has no label: its guide shows the path",
                    matter.file,
                    None,
                    None,
                    f"facts.{path}.label",
                )
            )
    return tuple(gaps)
