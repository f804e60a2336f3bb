"""The backtest as one self-contained HTML file: Jinja2 for the page, inline SVG charts."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from . import charts
from .run import Backtest, RuleMetrics

MAX_RULES_CHARTED = 25


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("scorelang", "templates"),
        autoescape=select_autoescape(["html", "html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v, digits=1: "n/a" if v is None else f"{v:.{digits}%}"
    env.filters["num"] = lambda v, digits=2: "n/a" if v is None else f"{v:,.{digits}f}"
    return env


def _rule_order(rule: RuleMetrics) -> float:
    return -(rule.stats.lift if rule.stats.lift is not None else -1.0)


def _chart(
    rows: list[tuple[str, tuple[float | None, ...]]], series, fmt: str = ".1%"
) -> Markup | None:
    return Markup(charts.horizontal_bars(rows, series, fmt=fmt)) if rows else None


def report_charts(result: Backtest) -> dict[str, object]:
    """The SVG for each chart, marked safe: charts.py escapes every piece of text it draws."""
    main = result.score(result.main_score)
    fired = sorted((r for r in result.rules if r.stats.fired), key=_rule_order)[:MAX_RULES_CHARTED]
    awarding = [r for r in result.rules if r.points is not None and r.mean_points]
    awarding = sorted(awarding, key=lambda r: -abs(r.mean_points))[:MAX_RULES_CHARTED]
    conversion = [("conversion", charts.POSITIVE)]
    return {
        "distributions": [
            (s.name, Markup(charts.score_distribution(s.histogram, s.name))) for s in result.scores
        ],
        "lift": Markup(charts.lift_gain(main.deciles, main.name)),
        "groups": [
            (
                g.name,
                g.source,
                _chart([(f"{r.label} ({r.count})", (r.conversion,)) for r in g.rates], conversion),
            )
            for g in result.groups
        ],
        "rules": _chart(
            [(r.label, (r.stats.conversion_fired, r.stats.conversion_not_fired)) for r in fired],
            [("conversion when fired", charts.POSITIVE), ("when not", charts.NEGATIVE)],
        ),
        "contribution": _chart(
            [(f"{r.label} ({r.score})", (r.mean_points,)) for r in awarding],
            [("average points per lead", charts.INK)],
            "+.2f",
        ),
    }


def render_report(result: Backtest) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        bt=result, charts=report_charts(result), main=result.score(result.main_score)
    )


def write_report(result: Backtest, path: Path) -> None:
    Path(path).write_text(render_report(result), encoding="utf-8")
