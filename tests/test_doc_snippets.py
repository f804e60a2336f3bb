"""Every Python snippet in README.md and docs/ runs, as written, from a copy of the
repository's examples: documentation that raises is a bug."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SNIPPET = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def snippets() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in SNIPPET.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{document.relative_to(ROOT)}:{line}", match[1]))
    return found


SNIPPETS = snippets()


def test_the_documents_have_python_snippets() -> None:
    assert {where.split(":")[0] for where, _code in SNIPPETS} >= {
        "README.md",
        "docs/data.md",
        "docs/explain.md",
        "docs/backtest.md",
    }


@pytest.mark.parametrize(("where", "code"), SNIPPETS, ids=[w for w, _c in SNIPPETS])
def test_the_snippet_runs(
    where: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__snippet__"})
