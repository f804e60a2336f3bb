"""A model change's impact (scorelang.impact.Impact) as Markdown for a pull-request comment
and as Rich tables for the terminal. Both show the same sections in the same order."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..impact import Impact, Mover, Transition

MARKER = "<!-- scorelang-diff -->"  # lets a CI job find and update its previous comment


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _signed(value: float) -> str:
    return f"{value:+.2f}".rstrip("0").rstrip(".") if value else "0"


def _reasons(mover: Mover) -> str:
    return "; ".join(f"{r.label} ({_signed(r.delta)})" for r in mover.rules) or "–"


def _noun(impact: Impact) -> str:
    """What the rows are: `lead` or `account`."""
    return impact.entity


def _sections(impact: Impact) -> Iterator[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table, shared by both renderings."""
    noun = _noun(impact)
    yield (
        "Scores",
        ["score", "mean before", "mean after", "change", f"{noun}s changed"],
        [
            [
                s.name,
                f"{s.mean_before:.2f}",
                f"{s.mean_after:.2f}",
                _signed(s.mean_after - s.mean_before),
                str(s.changed),
            ]
            for s in impact.scores
        ],
    )
    for t in impact.tiers:
        yield (
            f"Tier {t.name}: {t.moved} {noun}s move (rows: before, columns: after)",
            *_matrix(t),
        )
    if impact.flags:
        yield (
            "Flags",
            ["flag", "before", "after", "gained", "lost"],
            [
                [
                    f.name,
                    str(_count(f, "true", None)),
                    str(_count(f, None, "true")),
                    str(f.counts.get(("false", "true"), 0)),
                    str(f.counts.get(("true", "false"), 0)),
                ]
                for f in impact.flags
            ],
        )
    if impact.main_score is not None:
        yield (
            f"Largest changes in {impact.main_score}",
            [noun, "before", "after", "change", "rules responsible"],
            [
                [str(m.key), _num(m.before), _num(m.after), _signed(m.delta), _reasons(m)]
                for m in impact.movers
            ],
        )
    yield (
        "Rules",
        ["change", "rule", "before", "after"],
        [[c.kind, c.id, c.before or "–", c.after or "–"] for c in impact.rules],
    )


def _count(t: Transition, before: str | None, after: str | None) -> int:
    return sum(n for (a, b), n in t.counts.items() if before in (None, a) and after in (None, b))


def _matrix(t: Transition) -> tuple[list[str], list[list[str]]]:
    header = ["before \\ after", *t.after]
    rows = [[label, *(str(t.counts.get((label, c), 0)) for c in t.after)] for label in t.before]
    return header, rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(impact: Impact, title: str, marker: bool = True) -> str:
    """The comment's Markdown; `marker` False for a section after the first (the accounts'),
    so that a comment carries the marker once."""
    whose = "" if impact.entity == "lead" else f" ({impact.entity}s)"
    out = [
        *([MARKER] if marker else []),
        f"## Scoring impact: {title}{whose}",
        "",
        f"{impact.leads} {_noun(impact)}s scored with both versions.",
        "",
    ]
    for heading, header, rows in _sections(impact):
        out += [f"### {heading}", ""]
        if not rows:
            out += ["No changes.", ""]
            continue
        out.append("| " + " | ".join(_cell(h) for h in header) + " |")
        out.append("|" + "|".join("---" for _ in header) + "|")
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


def rich_view(impact: Impact, title: str) -> RenderableType:
    parts: list[RenderableType] = [
        Text(f"Scoring impact: {title} ({impact.leads} {_noun(impact)}s)", style="bold underline")
    ]
    for heading, header, rows in _sections(impact):
        parts.append(Text(f"\n{heading}", style="bold"))
        if not rows:
            parts.append(Text("no changes", style="dim"))
            continue
        table = Table(*header)
        for row in rows:
            table.add_row(*row)
        parts.append(table)
    return Group(*parts)
