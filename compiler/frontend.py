"""The front end in one call: read and parse a file and its imports, check, lower to the IR.

Imports are followed depth-first relative to the importing file, read through a source
provider (the disk, or an editor's buffers); a file imported twice is read once, and a file
that (indirectly) imports itself is an error at the `import`. A file with syntax errors is
still checked: the declarations that parsed are collected and checked, so one mistake does
not hide the others (the model is None while any error remains).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import ast, ir
from .diagnostics import Diagnostic, Severity, has_errors
from .lower import lower
from .parse import parse_module
from .provider import DISK, SourceProvider
from .reparse import reparse
from .symbols import collect

DEFAULT_MODEL_NAME = "model"  # for source text that comes from no file
# Check errors about something not declared: after a syntax error the skipped region may
# declare it, so they are left out rather than cascade from the one mistake.
MAYBE_IN_A_SKIPPED_REGION = frozenset(
    {"E200", "E201", "E202", "E207", "E208", "E212", "E400", "E401"}
)


@dataclass(frozen=True)
class Compilation:
    model: ir.Model | None  # None iff some diagnostic is an error
    diagnostics: list[Diagnostic]
    sources: dict[str, str]  # path -> text of every file read (for rendering carets)
    modules: dict[str, ast.Module]  # path -> parsed module (declarations that parsed)
    # path -> module of the files without syntax errors: what the next compilation of an
    # edited text can reuse (see `compile_source`'s `previous`)
    clean_modules: dict[str, ast.Module] = field(default_factory=dict)


def compile_source(
    source: str,
    path: str = "<string>",
    sources: SourceProvider = DISK,
    previous: Mapping[str, ast.Module] | None = None,
) -> Compilation:
    """Compiles model text; `path` names it in diagnostics and anchors relative imports,
    which are read through `sources`. `previous` (a former compilation's `clean_modules`)
    lets an edited file be parsed again only where it changed."""
    loader = _Loader(sources, dict(previous or {}))
    loader.load_text(source, path)
    return loader.finish(path)


def compile_file(path: str | Path, sources: SourceProvider = DISK) -> Compilation:
    loader = _Loader(sources)
    root = str(path)
    try:
        text = sources.read(root)
    except (OSError, UnicodeDecodeError) as error:
        problem = Diagnostic(
            "E209", Severity.ERROR, f"cannot read {root}: {error}", ast.Span(root, 0, 0, 0, 0)
        )
        return Compilation(None, [problem], {}, {})
    loader.load_text(text, root)
    return loader.finish(root)


@dataclass
class _Loader:
    provider: SourceProvider
    previous: dict[str, ast.Module] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    modules: dict[str, ast.Module] = field(default_factory=dict)
    clean: dict[str, ast.Module] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # post-order: imports before importers
    diagnostics: list[Diagnostic] = field(default_factory=list)
    active: list[str] = field(default_factory=list)  # the import chain being followed

    def load_text(self, text: str, path: str) -> None:
        self.sources[path] = text
        previous = self.previous.get(path)
        module, problems = reparse(previous, text) if previous else parse_module(text, path)
        self.diagnostics.extend(problems)
        self.modules[path] = module
        if not problems:
            self.clean[path] = module
        self.active.append(path)
        for decl in module.decls:
            if isinstance(decl, ast.ImportDecl):
                self._follow(decl, path)
        self.active.pop()
        self.order.append(path)

    def _follow(self, decl: ast.ImportDecl, importer: str) -> None:
        if "\0" in decl.path.value:  # no file system takes it (os.path raises ValueError)
            self._unreadable(decl, "a path cannot contain a NUL character")
            return
        base = Path.cwd() if importer.startswith("<") else Path(importer).parent
        target = os.path.normpath(base / decl.path.value)
        same = [_same_file(p) for p in self.active]
        if _same_file(target) in same:
            chain = [*self.active[same.index(_same_file(target)) :], target]
            self.diagnostics.append(
                Diagnostic(
                    "E210",
                    Severity.ERROR,
                    f"import cycle: {' -> '.join(chain)}",
                    decl.path.span,
                    "move the shared declarations into a file both import",
                )
            )
            return
        if any(_same_file(p) == _same_file(target) for p in self.sources):
            return
        try:
            text = self.provider.read(target)
        except (OSError, UnicodeDecodeError):
            self._unreadable(decl, f"looked for {target}; paths are relative to the importing file")
            return
        self.load_text(text, target)

    def _unreadable(self, decl: ast.ImportDecl, hint: str) -> None:
        message = f"cannot read the imported file {decl.path.value!r}"
        self.diagnostics.append(Diagnostic("E209", Severity.ERROR, message, decl.path.span, hint))

    def finish(self, root: str) -> Compilation:
        if root not in self.modules:
            return Compilation(None, self.diagnostics, self.sources, self.modules, self.clean)
        symbols = collect([(self.modules[p], p == root) for p in self.order])
        default_name = DEFAULT_MODEL_NAME if root.startswith("<") else Path(root).stem
        try:
            model, diagnostics = lower(symbols, self.sources, root, default_name)
        except RecursionError:  # the parser limits nesting; this guards what it lets through
            span = ast.Span(root, 1, 1, 1, 2)
            model, diagnostics = (
                None,
                [Diagnostic("E104", Severity.ERROR, "the expression is nested too deeply", span)],
            )
        if has_errors(self.diagnostics):  # a region was skipped: it may declare what is missing
            model = None
            diagnostics = [d for d in diagnostics if d.code not in MAYBE_IN_A_SKIPPED_REGION]
        return Compilation(
            model, [*self.diagnostics, *diagnostics], self.sources, self.modules, self.clean
        )


def _same_file(path: str) -> str:
    """One spelling per file, so `a/../b.score` and `b.score` are the same import."""
    return path if path.startswith("<") else os.path.realpath(path)
