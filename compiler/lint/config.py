"""The `[lint]` table of `scorelang.toml`: which rules run, how loud, and their thresholds.

[lint]
disable = ["SL003"]              # codes or names; `enable = [...]` runs only those
severity = { SL011 = "error" }   # error | warning | info
retention = "365d"               # how far back the event data goes (SL010)
inflation_factor = 2.0           # SL004: max possible score > factor x clamp high
magic_number_repeats = 3         # SL011: literal repeated this often
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..diagnostics import Severity
from ..parse import DURATION_SECONDS
from ..suggest import did_you_mean

CONFIG_FILE = "scorelang.toml"


class ConfigError(Exception):
    """The configuration is unreadable or names something that does not exist."""


@dataclass(frozen=True)
class LintConfig:
    enable: frozenset[str] | None = None  # None: every rule
    disable: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    retention_seconds: float | None = None
    inflation_factor: float = 2.0
    magic_number_repeats: int = 3


def find_config(start: Path) -> Path | None:
    """The nearest scorelang.toml in `start` or a parent directory."""
    directory = start.resolve()
    for candidate in (directory, *directory.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate / CONFIG_FILE
    return None


def load_lint_config(path: Path | None, known: Mapping[str, str]) -> LintConfig:
    """Read `[lint]` from `path` (defaults if None); `known` maps rule names and codes to codes."""
    if path is None:
        return LintConfig()
    try:
        table = tomllib.loads(path.read_text()).get("lint", {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from error
    return parse_lint_table(table, known, str(path))


def parse_lint_table(
    table: Mapping[str, Any], known: Mapping[str, str], where: str = "[lint]"
) -> LintConfig:
    def codes(key: str) -> frozenset[str]:
        values = table.get(key, [])
        if not isinstance(values, list):
            raise ConfigError(f"{where}: `{key}` must be a list of rule codes")
        return frozenset(_code(v, known, where) for v in values)

    severities = table.get("severity", {})
    if not isinstance(severities, Mapping):
        raise ConfigError(f'{where}: `severity` must be a table such as {{ SL011 = "error" }}')
    known_keys = {
        "enable",
        "disable",
        "severity",
        "retention",
        "inflation_factor",
        "magic_number_repeats",
    }
    unknown = set(table) - known_keys
    if unknown:
        named = ", ".join(
            key + (f" ({hint})" if (hint := did_you_mean(key, known_keys)) else "")
            for key in sorted(unknown)
        )
        raise ConfigError(f"{where}: unknown key(s) {named}")
    return LintConfig(
        enable=codes("enable") if "enable" in table else None,
        disable=codes("disable"),
        severity={_code(k, known, where): _severity(v, where) for k, v in severities.items()},
        retention_seconds=_duration(table["retention"], where) if "retention" in table else None,
        inflation_factor=float(table.get("inflation_factor", 2.0)),
        magic_number_repeats=int(table.get("magic_number_repeats", 3)),
    )


def _code(value: object, known: Mapping[str, str], where: str) -> str:
    if not isinstance(value, str) or value not in known:
        raise ConfigError(f"{where}: unknown lint rule {value!r}")
    return known[value]


def _severity(value: object, where: str) -> Severity:
    try:
        return Severity[str(value).upper()]
    except KeyError:
        raise ConfigError(
            f"{where}: severity must be error, warning or info, not {value!r}"
        ) from None


def _duration(value: object, where: str) -> float:
    text = str(value).strip()
    number = text.rstrip("minshdw")
    unit = text[len(number) :]
    try:
        return float(number) * DURATION_SECONDS[unit]
    except (ValueError, KeyError):
        raise ConfigError(
            f'{where}: retention must be a duration such as "365d", not {value!r}'
        ) from None
