"""The layers import downwards only: the compiler knows nothing of targets or of the
application around it, and the targets consume the IR without reaching into the
configuration, the CLI, the engines or data loading (those build on the targets)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Modules of the `scorelang` package a layer may import, beyond its own and lower folders.
ALLOWED = {
    "compiler": set(),
    # The evaluator reads records and returns results in the shapes the API defines.
    "targets": {"records", "results"},
}
LOWER = {"compiler": ("compiler", "grammar"), "targets": ("compiler", "grammar", "targets")}


def scorelang_imports(path: Path, folder: str, text: str | None = None) -> set[str]:
    """The first component below `scorelang` of every module `path` (or `text` as if it
    were at `path`) imports."""
    depth = len(path.relative_to(ROOT / folder).parts)  # scorelang.<folder>.<...>.module
    source = path.read_text(encoding="utf-8") if text is None else text
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
            elif node.level > depth:  # above scorelang.<folder>: into the scorelang package
                names = [f"scorelang.{node.module or ''}"]
            elif node.level == depth:
                names = [f"scorelang.{folder}.{node.module or ''}"]
            else:
                continue  # within the folder
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "scorelang" and len(parts) > 1 and parts[1]:
                found.add(parts[1])
            elif parts[0] == "scorelang":
                found.add("")  # `from scorelang import x` / `from ... import x`
    return found


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_layers_import_downwards_only(folder: str) -> None:
    problems = [
        f"{path.relative_to(ROOT)} imports scorelang.{name}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in sorted(scorelang_imports(path, folder))
        if name not in LOWER[folder] and name not in ALLOWED[folder]
    ]
    assert not problems, "\n".join(problems)


def test_the_check_sees_an_upward_import() -> None:
    """A module of targets/sql importing the configuration is caught (the smell this fixed)."""
    module = ROOT / "targets" / "sql" / "builder.py"
    assert "compiler" in scorelang_imports(module, "targets")
    text = (
        "from ...config import SourceMapping\nfrom ..python import codegen\nimport scorelang.cli\n"
    )
    assert scorelang_imports(module, "targets", text) == {"config", "targets", "cli"}
