"""Text functions beyond ASCII: `lower`, `upper`, `email_domain` and the `/i` flag change the
case of A-Z and a-z only, in every engine (engines and database locales disagree on `ß`,
dotted `İ`, final sigma, `ſ` and the Kelvin sign; see docs/language.md, "Text")."""

from __future__ import annotations

from pathlib import Path

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st
from scorelang.compiler.regex import ascii_case_insensitive, check_pattern
from strategies import compile_model, differences, score_everywhere, settings_for, write_csv

from scorelang.api import loads

NAMES = [
    "straße",
    "İstanbul",
    "ΣΑΣ",
    "Émile",
    "ǅx",
    "MiXeD",
    "\u017f",
    "\u212a",
    "ascii@EXAMPLE.Com",
    "",
]

SOURCE = """model text
lead { id: string key
  name: string? }
event e { x: string? }
score s {
  when lower(name) == "straße": +1 "lower_keeps_sharp_s"
  when upper(name) == "STRAßE": +2 "upper_keeps_sharp_s"
  when lower(name) == "İstanbul": +4 "dotted_i_kept"
  when upper(name) == "ΣΑΣ": +8 "greek_untouched"
  when lower(name) == "Émile": +16 "e_acute_kept"
  when lower(name) == "mixed": +32 "ascii_lowered"
  when name matches /s/i: +64 "long_s_is_not_s"
  when name matches /k/i: +128 "kelvin_is_not_k"
  when name matches /émile/i: +256 "no_fold_beyond_ascii"
  when email_domain(name) == "example.com": +512 "domain_lowered"
}
"""

EXPECTED = {
    "straße": 1 + 2 + 64,
    "İstanbul": 4 + 64,
    "ΣΑΣ": 8,
    "Émile": 16,
    "ǅx": 0,
    "MiXeD": 32,
    "\u017f": 0,  # long s
    "\u212a": 0,  # Kelvin sign
    "ascii@EXAMPLE.Com": 512 + 64,
    "": 0,
}


def test_case_mapping_is_ascii_only_in_every_engine(tmp_path: Path, pg_url: str) -> None:
    model = compile_model(SOURCE)
    rows = [{"id": f"l{i}", "name": name} for i, name in enumerate(NAMES)]
    leads = write_csv(tmp_path / "leads.csv", rows, ["id", "name"])
    events = write_csv(tmp_path / "events.csv", [], ["lead_id", "event_type", "occurred_at", "x"])
    scored = score_everywhere(model, leads, events, pg_url)
    assert not differences(model, scored), "\n".join(differences(model, scored))
    by_name = {name: row["s"] for name, row in zip(NAMES, scored["python"], strict=True)}
    assert by_name == {name: float(points) for name, points in EXPECTED.items()}


def test_the_python_api_maps_ascii_only() -> None:
    model = loads(SOURCE)
    assert model.score({"id": "a", "name": "straße"}).scores["s"] == 67.0


PATTERNS = [
    "vp",
    "[a-z]+x",
    "[^a-c]",
    "[0-z]",
    "[x-~]",
    "[]k]",
    "[a-]",
    r"\bHead\b",
    r"[\w.]+@X\.io",
    "(?:ab){2}?c",
    "^A|b$",
    r"\D\S\W",
]
ASCII = st.text(alphabet="abcABCkKsSxXhHeEaAdD-_.@ 0z~]^", max_size=8)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_folded_patterns_stay_in_the_portable_subset(pattern: str) -> None:
    assert check_pattern(ascii_case_insensitive(pattern)) is None


@settings_for(200)
@given(pattern=st.sampled_from(PATTERNS), subject=ASCII)
def test_folding_matches_re2_case_insensitivity_on_ascii(pattern: str, subject: str) -> None:
    folded = re2.search(ascii_case_insensitive(pattern), subject) is not None
    assert folded == (re2.search("(?i)" + pattern, subject) is not None)
