"""A backtest as plain JSON data: every figure the text output prints, for CI to gate on.

The result's dataclasses are walked field by field, their computed properties included
(`base_rate`, a classification's `f1`), so nothing shown on the terminal is missing here.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """JSON-ready data: dataclasses as objects with their properties, numpy scalars as
    numbers, NaN as null."""
    if is_dataclass(value) and not isinstance(value, type):
        data = {f.name: plain(getattr(value, f.name)) for f in fields(value)}
        properties = [n for n, a in vars(type(value)).items() if isinstance(a, property)]
        return data | {name: plain(getattr(value, name)) for name in properties}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
