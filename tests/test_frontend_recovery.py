"""The front end a tool can query: recovery at declaration starts, comments kept per parse
(no shared state), and source text from a provider (an editor's unsaved buffers)."""

from __future__ import annotations

import threading
from pathlib import Path

from scorelang.compiler import ast
from scorelang.compiler.frontend import compile_source
from scorelang.compiler.parse import parse, parse_module
from scorelang.compiler.provider import BufferSources
from scorelang.compiler.symbols import collect

SCHEMA = "lead {\n  id: string key\n  employees: int?\n}\nevent page_view { url: string }\n"


def names(module: ast.Module) -> list[str]:
    return [d.name.text for d in module.decls if hasattr(d, "name") and hasattr(d.name, "text")]


def test_a_valid_score_after_a_syntax_error_is_parsed_checked_and_collected() -> None:
    source = (
        SCHEMA
        + "score broken {\n  when employees > 10 +5\n}\n"
        + 'score second {\n  when employees > "ten": +5\n  when page_view within 7d: +1\n}\n'
    )
    module, problems = parse_module(source, "t.score")
    assert [p.code for p in problems] == ["E102"]  # the missing `:`, in the first score
    assert names(module) == ["page_view", "second"]
    symbols = collect([(module, True)])
    assert "second" in symbols.names and "employees" in symbols.names
    compilation = compile_source(source, "t.score")
    assert compilation.model is None
    codes = [(d.code, d.span.line) for d in compilation.diagnostics]
    assert codes == [("E102", 7), ("E300", 10)]  # the second score is checked too


def test_each_bad_region_has_its_diagnostic_and_the_rest_survives() -> None:
    source = (
        "const a = 1 +\n"  # ends too early: the next line's `const` is not a value
        "const b = 2\n"
        "event e { p: string; }\n"  # `;` is no character of the language
        "flag f = b > 1\n"
        "score s { when x: 10 }\n"  # points need a sign
        "segment g = b > 0\n"
    )
    module, problems = parse_module(source, "t.score")
    assert [(p.code, p.span.line) for p in problems] == [("E100", 2), ("E101", 3), ("E102", 5)]
    assert names(module) == ["b", "f", "g"]
    assert parse(source, "t.score")[0] is None  # the formatter's contract: whole files only


def test_a_bad_string_drops_only_its_declaration() -> None:
    module, problems = parse_module('const a = "x\\q"\nconst b = 2\n', "t.score")
    assert [p.code for p in problems] == ["E105"]
    assert names(module) == ["b"]


def test_recovery_on_the_examples_changes_nothing() -> None:
    for path in sorted(Path("examples").glob("**/*.score")):
        text = path.read_text(encoding="utf-8")
        recovered, problems = parse_module(text, str(path))
        strict, _ = parse(text, str(path))
        assert problems == [] and recovered == strict


def test_interleaved_parses_keep_their_own_comments() -> None:
    """Comments were collected through a module-global list: two parses at once mixed them."""
    sources = {
        i: f"# file {i}\n" + "".join(f"const c{j} = {j}  # c{i}.{j}\n" for j in range(300))
        for i in range(4)
    }
    results: dict[int, list[str]] = {}

    def run(i: int) -> None:
        for _ in range(3):
            module, _ = parse_module(sources[i], f"{i}.score")
            results[i] = [c.text for c in module.comments]

    threads = [threading.Thread(target=run, args=(i,)) for i in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, comments in results.items():
        assert comments == [f"# file {i}", *(f"# c{i}.{j}" for j in range(300))]


def test_imports_are_read_through_the_provider(tmp_path: Path) -> None:
    shared = tmp_path / "shared.score"
    shared.write_text(SCHEMA, encoding="utf-8")
    root = tmp_path / "model.score"
    text = 'import "shared.score"\nscore s {\n  when employees > 10: +5\n  when seats > 1: +1\n}\n'
    on_disk = compile_source(text, str(root))
    assert [d.code for d in on_disk.diagnostics] == ["E200"]  # no `seats` in the saved file
    unsaved = SCHEMA.replace("employees: int?", "employees: int?\n  seats: int?")
    buffers = BufferSources({str(tmp_path / "." / "shared.score"): unsaved})
    in_editor = compile_source(text, str(root), buffers)
    assert in_editor.diagnostics == [] and in_editor.model is not None
    assert in_editor.sources[str(shared)] == unsaved


def test_common_mistakes_are_explained_after_other_declarations() -> None:
    """The MISTAKES examples are files of one declaration; a slip in a later declaration is
    explained as well (it was reported as a bare E100)."""
    [problem] = parse_module(SCHEMA + "score s {\n  when employees = 10: +1\n}\n", "t.score")[1]
    assert (problem.code, problem.span.line, problem.message) == (
        "E102",
        7,
        "Use == to compare, = only declares.",
    )
