"""The language reference for hovers: keywords and built-in functions, as docs/language.md
describes them in its tables (one source of truth; the server shows the rows).

Keywords are the grammar's own literal words; functions are the checker's list.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from ..compiler.functions import FUNCTIONS

LANGUAGE_DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"
_ROW = re.compile(r"^\|\s*(?P<form>[^|]*`[^|]*)\|(?P<rest>.*)\|\s*$")
_CODE = re.compile(r"`([^`]+)`")
_WORD = re.compile(r"[a-z_]+")
_MAX_ROWS = 3


@cache
def keywords() -> frozenset[str]:
    """Every word the grammar spells out (`when`, `within`, `decay`, ...)."""
    grammar = resources.files("scorelang.grammar").joinpath("scorelang.lark").read_text("utf-8")
    return frozenset(w for w in re.findall(r"\"([a-z_]+)\"", grammar) if len(w) > 1)


@cache
def entries() -> dict[str, tuple[str, ...]]:
    """Word -> the reference rows that show it, rows that start with it first."""
    if not LANGUAGE_DOC.exists():  # an install without the docs: no reference hovers
        return {}
    known = keywords() | set(FUNCTIONS)
    found: dict[str, list[tuple[bool, str]]] = {}
    for line in LANGUAGE_DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match is None or set(match["rest"].replace("|", "").strip()) <= {"-", " "}:
            continue
        codes = _CODE.findall(match["form"])
        cells = [c.strip() for c in match["rest"].split("|") if c.strip()]
        text = f"{match['form'].strip()}: {' — '.join(cells)}"
        for code in codes:
            words = _WORD.findall(code)
            for word in dict.fromkeys(words):
                if word in known:
                    found.setdefault(word, []).append((words[0] != word, text))
    return {
        word: tuple(dict.fromkeys(text for _, text in sorted(rows, key=lambda r: r[0])))[:_MAX_ROWS]
        for word, rows in found.items()
    }


def describe(word: str) -> str | None:
    rows = entries().get(word)
    return "\n\n".join(rows) if rows else None
