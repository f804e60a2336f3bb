"""Found by the grammar-driven fuzzer (tests/test_fuzz_frontend.py, hypothesis' from_lark):
`import "\\0"` crashed compile_source with `ValueError: embedded null byte` from
os.path.realpath. Cause: the import path went to the file system unchecked; a path with a
NUL is now E209 (cannot read the imported file), like any other unreadable import."""

from __future__ import annotations

from scorelang.compiler.frontend import compile_source


def test_nul_in_an_import_path_is_a_diagnostic() -> None:
    compilation = compile_source('import "a\\0b.score"\nlead { id: string key }\n')
    assert compilation.model is None
    [diagnostic] = compilation.diagnostics
    assert diagnostic.code == "E209" and "NUL" in (diagnostic.hint or "")
