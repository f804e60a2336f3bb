"""One document's view of its model: the compilation, lint findings, symbols and bindings.

The last version without syntax errors is kept for completion and navigation while the user
types (text mid-edit rarely parses; the recovered parse lacks the declaration being typed),
so `modules`, `symbols` and `bindings` may be one edit old. The previous analysis's
syntax trees are reused by the next parse where the edit did not reach.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..compiler import ast, lint
from ..compiler.binder import Bindings, bind
from ..compiler.diagnostics import Diagnostic
from ..compiler.frontend import Compilation, compile_source
from ..compiler.provider import DISK, SourceProvider
from ..compiler.symbols import Symbols, collect


@dataclass(frozen=True)
class Analysis:
    path: str
    source: str
    compilation: Compilation
    diagnostics: tuple[Diagnostic, ...]  # check and lint, in every file read
    modules: Mapping[str, ast.Module]  # the last that parsed: root first
    symbols: Symbols | None
    bindings: Bindings

    @property
    def root(self) -> ast.Module | None:
        return self.modules.get(self.path)


def analyse(
    source: str, path: str, previous: Analysis | None = None, sources: SourceProvider = DISK
) -> Analysis:
    """Checks and lints `source`; imports are read through `sources` (the editor's buffers)."""
    reusable = previous.compilation.clean_modules if previous else None
    compilation = compile_source(source, path, sources, reusable)
    diagnostics = list(dict.fromkeys(compilation.diagnostics))
    if compilation.model is not None:
        diagnostics += lint.lint(
            lint.LintContext(
                compilation.modules[path],
                compilation.model,
                _lint_config(path),
                compilation.modules,
            )
        )
    if not _syntax_errors(compilation, path) or previous is None:
        modules = compilation.modules
        imported = [(m, False) for p, m in modules.items() if p != path]
        root = [(modules[path], True)] if path in modules else []
        symbols = collect(imported + root) if modules else None
        bindings = bind(modules, symbols)
    else:
        modules, symbols, bindings = previous.modules, previous.symbols, previous.bindings
    return Analysis(path, source, compilation, tuple(diagnostics), modules, symbols, bindings)


def _syntax_errors(compilation: Compilation, path: str) -> bool:
    """Whether the document has syntax errors: its recovered parse then lacks the declaration
    being typed, and the last version without them serves completion and navigation."""
    return any(d.code.startswith("E1") and d.span.file == path for d in compilation.diagnostics)


def _lint_config(path: str) -> lint.LintConfig:
    """The nearest scorelang.toml's `[lint]` table; the defaults if there is none or it is broken
    (`scorelang lint` reports a broken one)."""
    if path.startswith("<"):
        return lint.LintConfig()
    try:
        return lint.load_config(lint.find_config(Path(path).parent))
    except lint.ConfigError:
        return lint.LintConfig()


def import_sites(root: str, compilation: Compilation) -> dict[str, ast.ImportDecl]:
    """Each file read through the root's imports -> the root's `import` that brought it in."""
    sites: dict[str, ast.ImportDecl] = {}
    modules = compilation.modules
    module = modules.get(root)
    if module is None:
        return sites
    for decl in module.decls:
        if isinstance(decl, ast.ImportDecl):
            pending = [_target(root, decl)]
            while pending:
                path = pending.pop()
                if path in sites or path == root or path not in compilation.sources:
                    continue
                sites[path] = decl
                decls = modules[path].decls if path in modules else ()
                pending += [_target(path, d) for d in decls if isinstance(d, ast.ImportDecl)]
    return sites


def _target(importer: str, decl: ast.ImportDecl) -> str:
    """The path the front end reads for an import (compiler/frontend.py's rule)."""
    base = Path.cwd() if importer.startswith("<") else Path(importer).parent
    return os.path.normpath(base / decl.path.value)
