"""Regression tests share the helpers of tests/strategies.py (pytest puts only this folder
on sys.path for the modules here)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
