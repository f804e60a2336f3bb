"""The backtest report: a self-contained HTML file, rendered in a real headless browser."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime

import numpy as np
import pytest
from backtest_fixtures import MODEL
from scorelang.compiler.frontend import compile_source

from scorelang.backtest.report import render_report, write_report
from scorelang.backtest.run import Backtest, analyse
from scorelang.backtest.scoring import ScoredLeads

CHROMIUM = shutil.which("chromium")
CHART_COLOURS = {
    "converted bars": (0x2A, 0x9D, 0x8F),
    "gain line": (0xE7, 0x6F, 0x51),
    "lift bars": (0x26, 0x46, 0x53),
}


def _backtest(label: str = "saas") -> Backtest:
    compilation = compile_source(MODEL)
    assert compilation.model is not None, compilation.diagnostics
    model = compilation.model
    rng = np.random.default_rng(5)
    rows, outcomes = [], []
    for i in range(300):
        saas, vp, views = rng.random() < 0.4, rng.random() < 0.3, int(rng.integers(0, 6))
        education = i % 7 == 0
        fit = max(0.0, 20.0 * saas + 20.0 * vp - 10.0 * education)
        engagement = float(min(2 * views, 10))
        total = fit + engagement
        stage = "hot" if total >= 40 else "warm" if total >= 20 else "cold"
        rows.append(
            {
                "id": f"l{i}",
                "fit": fit,
                "engagement": engagement,
                "total": total,
                "stage": stage,
                "mql": total >= 40 and fit >= 40,
                "fit__saas": 20.0 * saas,
                "fit__vp": 20.0 * vp,
                "fit__r3": -10.0 * education,
                "engagement__r1": engagement,
                "engagement__r2": 0.0,
                "engagement__pricing": 0.0,
                "engagement__docs": 0.0,
                "engagement__r3": views == 0,
            }
        )
        outcomes.append(rng.random() < 0.05 + total / 80)
    scored = ScoredLeads(rows, np.array(outcomes), [datetime(2026, 1, 1, tzinfo=UTC)] * len(rows))
    return analyse(model, scored, outcome="won", as_of="all leads at 2026-01-01", target_rate=0.1)


def test_report_is_self_contained_and_escapes_user_text():
    html = render_report(_backtest())
    # lift, three distributions, the tier, rule contribution and rule conversion
    assert html.count("<svg") == 1 + 3 + 1 + 1 + 1
    for forbidden in ("<script", "<link", "http://", "https://", "src="):
        assert forbidden not in html.replace("http://www.w3.org/2000/svg", "")
    assert "ROC AUC" in html and "mql" in html and "total &gt;= 40" in html


def _pixels(png: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes) to an array."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, compressed, header = 8, b"", None
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, body = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(compressed), dtype=np.uint8).reshape(
        height, width * bpp + 1
    )
    image = np.zeros((height, width * bpp), dtype=np.uint8)
    previous = np.zeros(width * bpp, dtype=np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 1:
            row = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:
            row = (line + previous) % 256
        else:
            row = np.zeros_like(line)
            for x in range(len(line)):
                left = row[x - bpp] if x >= bpp else 0
                up = previous[x]
                if kind == 3:
                    row[x] = (line[x] + (left + up) // 2) % 256
                    continue
                corner = previous[x - bpp] if x >= bpp else 0
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                row[x] = (line[x] + guess) % 256
        image[y], previous = row, row
    return image.reshape(height, width, bpp)[:, :, :3]


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (required in CI)",
)
def test_report_renders_in_headless_chromium(tmp_path):
    assert CHROMIUM is not None, "CI needs chromium: apt-get install -y chromium"
    report, screenshot = tmp_path / "report.html", tmp_path / "out.png"
    write_report(_backtest(), report)
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={screenshot}", "--window-size=1200,2000", report.as_uri(),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    pixels = _pixels(screenshot.read_bytes())
    assert pixels.shape == (2000, 1200, 3)
    not_white = (pixels < 245).any(axis=2).mean()
    assert not_white > 0.03, f"only {not_white:.1%} of the page is drawn"
    colours = {tuple(c) for c in np.unique(pixels.reshape(-1, 3), axis=0)}
    assert len(colours) > 20
    for what, colour in CHART_COLOURS.items():
        assert colour in colours, f"no {what} on the page"
