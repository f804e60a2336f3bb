"""Inline SVG charts for the backtest report, drawn in Python so the HTML needs no script
and no external asset. Every label is escaped: rule labels are user text."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .metrics import Decile, Histogram

POSITIVE = "#2a9d8f"
NEGATIVE = "#adb5bd"
ACCENT = "#e76f51"
INK = "#264653"
FONT = "font-family='system-ui, sans-serif'"


def _text(
    x: float, y: float, text: str, anchor: str = "middle", size: int = 11, fill: str = INK
) -> str:
    return f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' font-size='{size}' fill='{fill}'>{escape(text)}</text>"


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return f"<rect x='{x:.1f}' y='{y:.1f}' width='{max(w, 0):.1f}' height='{max(h, 0):.1f}' fill='{fill}'>{tip}</rect>"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(label)}' {FONT}>"
        + "".join(body)
        + "</svg>"
    )


def _legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> list[str]:
    body = []
    for name, color in items:
        body += [_rect(x, y - 9, 10, 10, color), _text(x + 14, y, name, "start")]
        x += 14 + 7 * len(name) + 16
    return body


def _y_axis(
    left: float, top: float, height: float, right: float, maximum: float, fmt: str
) -> list[str]:
    """Four grid lines with labels from 0 to `maximum`."""
    body = []
    for i in range(5):
        y = top + height - height * i / 4
        body.append(f"<line x1='{left}' x2='{right}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e9ecef'/>")
        body.append(_text(left - 6, y + 4, format(maximum * i / 4, fmt), "end", 10))
    return body


def score_distribution(
    histogram: Histogram, score: str, width: int = 560, height: int = 260
) -> str:
    """Share of converted and of not-converted leads per score bin, side by side."""
    left, top, bottom, right = 48, 30, 40, width - 24
    plot_h, bins = height - top - bottom, len(histogram.positives)
    pos_total, neg_total = sum(histogram.positives) or 1, sum(histogram.negatives) or 1
    shares = [
        (p / pos_total, n / neg_total)
        for p, n in zip(histogram.positives, histogram.negatives, strict=True)
    ]
    peak = max((max(pair) for pair in shares), default=0) or 1
    slot = (right - left) / bins
    body = _y_axis(left, top, plot_h, right, peak, ".0%")
    body += _legend(left, 16, [("converted", POSITIVE), ("not converted", NEGATIVE)])
    for i, (pos, neg) in enumerate(shares):
        x = left + i * slot
        span = f"{histogram.edges[i]:g} to {histogram.edges[i + 1]:g}"
        for offset, share, color, who in (
            (0.1, neg, NEGATIVE, "not converted"),
            (0.5, pos, POSITIVE, "converted"),
        ):
            h = plot_h * share / peak
            body.append(
                _rect(
                    x + slot * offset,
                    top + plot_h - h,
                    slot * 0.4,
                    h,
                    color,
                    f"{score} {span}: {share:.1%} of {who}",
                )
            )
    for i in (0, bins // 2, bins):
        body.append(
            _text(left + i * slot, height - bottom + 16, f"{histogram.edges[i]:g}", size=10)
        )
    body.append(_text((left + right) / 2, height - 6, score, size=11))
    return _svg(width, height, body, f"distribution of {score} by outcome")


def lift_gain(deciles: Sequence[Decile], score: str, width: int = 560, height: int = 260) -> str:
    """Lift per decile as bars (left axis) and cumulative gain as a line (0-100%, right axis)."""
    left, top, bottom, right = 48, 30, 40, width - 48
    plot_h, plot_w = height - top - bottom, right - left
    peak = max((d.lift for d in deciles), default=1) or 1
    slot = plot_w / max(len(deciles), 1)
    body = _y_axis(left, top, plot_h, right, peak, ".1f")
    body += _legend(left, 16, [("lift", INK), ("cumulative gain", ACCENT), ("random", NEGATIVE)])
    points = [(left, top + plot_h)]
    for i, d in enumerate(deciles):
        h = plot_h * d.lift / peak
        tip = f"decile {d.rank}: {d.count} leads, {d.conversion:.1%} converted, lift {d.lift:.2f}"
        body.append(_rect(left + i * slot + slot * 0.15, top + plot_h - h, slot * 0.7, h, INK, tip))
        body.append(_text(left + (i + 0.5) * slot, height - bottom + 16, str(d.rank), size=10))
        points.append((left + (i + 1) * slot, top + plot_h - plot_h * d.cumulative_gain))
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    body.append(f"<polyline points='{line}' fill='none' stroke='{ACCENT}' stroke-width='2.5'/>")
    body.append(
        f"<line x1='{left}' y1='{top + plot_h}' x2='{right}' y2='{top}' stroke='{NEGATIVE}' stroke-dasharray='4 3'/>"
    )
    for i in range(5):
        body.append(
            _text(right + 6, top + plot_h - plot_h * i / 4 + 4, f"{i * 25}%", "start", 10, ACCENT)
        )
    body.append(_text((left + right) / 2, height - 6, f"deciles of {score} (1 = highest)", size=11))
    return _svg(width, height, body, f"lift and gain of {score}")


def horizontal_bars(
    rows: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[tuple[str, str]],
    *,
    fmt: str = ".1%",
    width: int = 560,
    label_width: int = 220,
) -> str:
    """One group of bars per row (a tier band, a rule), one bar per series (name, colour).
    Negative values (points taken away) grow to the left of a zero line."""
    bar, gap, top = 12, 10, 28
    height = top + len(rows) * (bar * len(series) + gap) + 10
    values = [v for _, row in rows for v in row if v is not None]
    low, high = min([0.0, *values]), max([0.0, *values])
    span = (high - low) or 1.0
    plot_w = width - label_width - 110
    zero = label_width + (45 if low < 0 else 0) + plot_w * -low / span
    body = _legend(label_width, 16, series)
    if low < 0:
        body.append(
            f"<line x1='{zero:.1f}' x2='{zero:.1f}' y1='{top - 4}' y2='{height - 8}' stroke='{NEGATIVE}'/>"
        )
    y = float(top)
    for label, row in rows:
        short = label if len(label) <= 34 else label[:33] + "…"
        body.append(_text(label_width - 8, y + bar * len(series) / 2 + 4, short, "end", 11))
        for (name, color), value in zip(series, row, strict=True):
            w = 0.0 if value is None else plot_w * value / span
            shown = "n/a" if value is None else format(value, fmt)
            body.append(
                _rect(min(zero, zero + w), y, abs(w), bar - 2, color, f"{label} — {name}: {shown}")
            )
            anchor, x = ("end", zero + w - 4) if w < 0 else ("start", zero + w + 4)
            body.append(_text(x, y + bar - 3, shown, anchor, 10))
            y += bar
        y += gap
    return _svg(width, int(height), body, ", ".join(name for name, _ in series))
