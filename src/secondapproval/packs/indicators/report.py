"""A score report: the scorecard, its rank equivalence, its weak points; as text or as HTML.

`build_report` gathers everything a reader needs (scores, each component's trace, ranks with
neighbours per topic, the median economy, priorities); `render_text` prints it for a terminal
and `render_html` fills the Jinja2 template `templates/report.html.j2` (inline SVG chart).
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .dataset import Data
from .priorities import Priority, priorities
from .rank import Placement, RankTable, Source, rank_table
from .scoring import Scorecard, Scored, Scorer
from .system import Component


@dataclass(frozen=True, slots=True)
class TopicLine:
    """One topic: its score, the edition's mean and median economy, and its rank equivalence."""

    scored: Scored
    median: float | None
    placement: Placement | None
    mean: float | None = None
    """The mean over the edition's ranked economies: "above the 190-economy average" is
    `scored.score > mean`."""


@dataclass(frozen=True, slots=True)
class TraceLine:
    """One component of the trace."""

    scored: Scored
    depth: int
    share: float
    contribution: float | None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a score report shows."""

    card: Scorecard
    edition: str | None
    source: Source
    overall: Placement | None
    topics: tuple[TopicLine, ...]
    trace: tuple[TraceLine, ...]
    priorities: tuple[Priority, ...]
    table: str | None = None
    """What the edition's table is, as the system file says (e.g. a year as revised in a later
    release)."""
    unlike: str | None = None
    """Set when the overall is placed in a table of a different total (a 10+2 mean in a table
    of 10-topic means): says so."""

    @property
    def below_mean(self) -> tuple[TopicLine, ...]:
        """The topics whose score is not above the edition's mean (or has no score)."""
        return tuple(
            t
            for t in self.topics
            if t.mean is not None and (t.scored.score is None or t.scored.score <= t.mean)
        )


def build_report(
    card: Scorecard,
    data: Data | None,
    edition: str | None,
    source: Source = "published",
    exclude: str | None = None,
) -> Report:
    """Assemble a report; without a dataset or edition there are no ranks or medians."""
    system = card.system
    scorer = Scorer(system)
    tables: dict[str, RankTable] = {}
    if data is not None and edition is not None:
        for node in (system.rank_node, *(t.id for t in system.topics)):
            table = rank_table(system, data, edition, node, source, scorer)
            if table.entries:
                tables[node] = table

    def place(node: str, score: float | None) -> Placement | None:
        table = tables.get(node)
        return None if table is None or score is None else table.place(score, exclude)

    topics = tuple(
        TopicLine(
            t,
            tables[t.id].median if t.id in tables else None,
            place(t.id, t.score),
            tables[t.id].mean if t.id in tables else None,
        )
        for t in card.topics
    )
    trace: list[TraceLine] = []

    def walk(s: Scored, depth: int) -> None:
        trace.append(TraceLine(s, depth, card.shares.get(s.id, 0.0), card.contribution(s.id)))
        for p in s.parts:
            walk(p, depth + 1)

    walk(card.root, 0)
    return Report(
        card,
        edition,
        source,
        place(system.rank_node, card.overall),
        topics,
        tuple(trace),
        priorities(card),
        system.edition_notes.get(edition) if edition is not None and tables else None,
        _unlike(card) if system.rank_node in tables else None,
    )


def _unlike(card: Scorecard) -> str | None:
    """Whether the overall is a mean of more topics than the table it is ranked in: a 10+2
    system's 12-topic mean placed among the economies' 10-topic means."""
    system = card.system
    if system.ranked_as is None or system.ranked_as == system.overall.id:
        return None
    ours = len(system.topics)
    theirs = sum(1 for t in system.topics if t.id in system.columns)
    if ours == theirs:
        return None
    return (
        f"a mean of {ours} topics placed in a table of {theirs}-topic means"
        f" ({system.ranked_as}): unlike totals, compared for orientation only"
    )


def _num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _what(s: Scored) -> str:
    """How a node got its score, in a few words."""
    if s.status == "scored":
        return ""
    if s.status == "special":
        return f"'{s.value}'"
    if s.status == "not_applicable":
        return f"not applicable ('{s.value}')" if s.value is not None else "not applicable"
    if s.status == "invalid":
        return f"invalid value {s.value!r}"
    return "MISSING"


def render_text(report: Report, trace: bool = False, top: int = 10) -> str:
    card = report.card
    system = card.system
    out = [f"{system.title.en} [{system.id}] — {card.name or 'values'}"]
    if system.example:
        out.append("(example system: frontiers declared by the user, not published)")
    out += _overall_lines(report)
    out += _city_lines(card)
    out.append("")
    out.append(f"  {'topic':<36} {'score':>7} {'mean':>7} {'median':>7} {'rank':>9}")
    for t in report.topics:
        rank = _rank(t.placement) if t.placement else ""
        note = _what(t.scored)
        out.append(
            f"  {t.scored.node.title.en:<36} {_num(t.scored.score):>7} {_num(t.mean):>7}"
            f" {_num(t.median):>7} {rank:>9}" + (f"  {note}" if note else "")
        )
    out += _against_the_mean(report)
    if card.missing:
        out.append("")
        out.append(f"missing components ({len(card.missing)}): {', '.join(card.missing)}")
        out.append(
            "  (a topic or overall with a missing component has no score:"
            " never zero, never the frontier)"
        )
    if trace:
        out.append("")
        out.append(
            f"  {'node':<40} {'value':>12} {'best':>8} {'worst':>8} {'score':>8}"
            f" {'share':>7} {'points':>7}"
        )
        for line in report.trace:
            s = line.scored
            node = s.node
            best = worst = value = ""
            if isinstance(node, Component):
                best, worst = str(node.best), str(node.worst)
                value = "" if s.value is None else str(s.value)
            label = "  " * line.depth + node.id
            out.append(
                f"  {label:<40} {value:>12} {best:>8} {worst:>8} {_num(s.score):>8} "
                f"{line.share:>7.4f} {_num(line.contribution, 3):>7} {_what(s)}"
            )
            for city, weight, sub in s.cities if isinstance(node, Component) else ():
                out.append(
                    f"  {'':<40}   {city} × {weight:.2f}: value {sub.value},"
                    f" score {_num(sub.score)}"
                )
    if report.priorities:
        out.append("")
        out.append("weak points (overall points gained by reaching the frontier):")
        out.append(f"  {'component':<40} {'score':>7} {'gain':>7}   {'per unit of improvement'}")
        for p in report.priorities[:top]:
            per_unit = "" if p.per_unit is None else f"{p.per_unit:.4f} per {p.component.unit}"
            out.append(f"  {p.component.id:<40} {p.score:>7.2f} {p.gain:>7.3f}  {per_unit}")
    return "\n".join(out) + "\n"


def _overall_lines(report: Report) -> list[str]:
    """The overall score, its rank and which table that rank is in, and its neighbours."""
    where = ""
    if report.overall is not None:
        where = f"   rank {_rank(report.overall)} in {report.edition} ({report.source} table)"
    out = [f"overall {_num(report.card.overall, 3)}{where}"]
    if report.table:
        out.append(f"  table: {report.edition} = {report.table}")
    if report.unlike:
        out.append(f"  note: {report.unlike}")
    if report.overall is not None:
        out += _neighbours(report.overall)
    return out


def _city_lines(card: Scorecard) -> list[str]:
    """For an economy measured in several cities: the cities, their weights and overall scores."""
    if not card.cities:
        return []
    out = [
        f"measured in {len(card.cities)} cities; every score is the population-weighted mean of"
        " the cities' scores:"
    ]
    out.append(f"  {'city':<36} {'weight':>7} {'overall':>8}")
    for city, weight, scored in card.cities:
        out.append(f"  {city:<36} {weight:>7.4g} {_num(scored.score, 3):>8}")
    return out


def _against_the_mean(report: Report) -> list[str]:
    """Whether every topic with a table is above its mean over the edition's economies."""
    compared = [t for t in report.topics if t.mean is not None]
    if not compared:
        return []
    n = next((t.placement.of for t in compared if t.placement), None)
    of = f"the {n} economies' mean" if n else "the economies' mean"
    below = report.below_mean
    if not below:
        return [f"every topic above {of} ({report.edition}): yes"]
    names = ", ".join(t.scored.node.title.en for t in below)
    return [f"every topic above {of} ({report.edition}): no — not above: {names}"]


def _rank(p: Placement) -> str:
    return f"{p.rank}/{p.of}"


def _neighbours(p: Placement) -> list[str]:
    lines = [f"    above: {e.name} {e.score:.3f}" for e in p.above]
    lines += [f"    below: {e.name} {e.score:.3f}" for e in p.below]
    return lines


# ---- HTML ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """Geometry of one topic's bar in the SVG chart (x in pixels)."""

    label: str
    score: float | None
    median: float | None
    y: int
    width: float
    median_x: float | None


CHART_LEFT, CHART_WIDTH, ROW = 260, 420, 26


def chart(report: Report) -> tuple[Bar, ...]:
    bars = []
    for i, t in enumerate(report.topics):
        score = t.scored.score
        bars.append(
            Bar(
                t.scored.node.title.en,
                score,
                t.median,
                30 + i * ROW,
                0.0 if score is None else CHART_WIDTH * score / 100.0,
                None if t.median is None else CHART_LEFT + CHART_WIDTH * t.median / 100.0,
            )
        )
    return tuple(bars)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("secondapproval.packs.indicators", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["what"] = _what
    return env


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page with an inline SVG chart."""
    template = _environment().get_template("report.html.j2")
    bars = chart(report)
    return template.render(
        report=report,
        card=report.card,
        system=report.card.system,
        bars=bars,
        left=CHART_LEFT,
        width=CHART_WIDTH,
        height=40 + ROW * len(bars) + 30,
        Component=Component,
        top=10,
    )
