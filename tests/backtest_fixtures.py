"""A small model and a file writer shared by the explain, backtest, suggest and report tests."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

MODEL = """\
model demo "Backtest fixture"

lead {
  id: string key
  industry: string?
  title: string?
  created_at: timestamp
}

event page_view { url: string }
event demo_request { }

score fit "Who they are" {
  when industry == "saas": +20 "saas"
  when title == "VP": +20 "vp"   # decision makers
  when industry == "education": -10
  clamp 0..100
}

score engagement {
  each page_view: +2 max 10
  when demo_request: +50
  when no activity within 365d: reset
  group "content" max 15 {
    when page_view where url == "/pricing": +10 "pricing"
    when page_view where url == "/docs": +10 "docs"
  }
}

score total = fit + engagement

tier stage from total {
  hot >= 40
  warm >= 20
  cold
}

flag mql = total >= 40 and fit >= 40
"""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([_cell(row.get(c)) for c in columns] for row in rows)
    return path


def write_files(
    directory: Path, leads: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> tuple[Path, Path]:
    lead_columns = list(leads[0])
    event_columns = ["lead_id", "event_type", "occurred_at", "url"]
    return write_csv(directory / "leads.csv", leads, lead_columns), write_csv(
        directory / "events.csv", events, event_columns
    )
