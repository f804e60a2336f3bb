"""The language server: pygls wiring of the features, one analysis per open document.

Every edit re-runs the front end and the linter on the document; the parser reuses the
previous analysis's syntax tree where the edit did not reach (compiler/reparse.py), the
check and lint run on the whole model; bench/bench_lsp.py measures it. Imported files are read through the open
documents first (unsaved text included), then from disk; an edit re-checks the open
documents that read the edited one.
"""

from __future__ import annotations

import os
import re

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..compiler import ast
from ..compiler.binder import Key
from ..compiler.fmt import format_source
from ..compiler.provider import BufferSources
from . import actions, completion, convert, hover, outline, testlens
from .analysis import Analysis, analyse
from .reference import keywords

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ScoreLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("scorelang", __version__)
        self.analyses: dict[str, Analysis] = {}
        self.test_results: dict[str, list[testlens.TestOutcome]] = {}
        self.docs_url = ""

    def refresh(self, uri: str) -> Analysis:
        document = self.workspace.get_text_document(uri)
        path = _path(uri)
        analysis = analyse(document.source, path, self.analyses.get(uri), self.buffers())
        self.analyses[uri] = analysis
        self.test_results.pop(uri, None)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=document.version,
                diagnostics=convert.diagnostics(analysis, self.docs_url),
            )
        )
        return analysis

    def buffers(self) -> BufferSources:
        """The open documents' text by path, over the disk."""
        documents = self.workspace.text_documents.items()
        return BufferSources({_path(uri): document.source for uri, document in documents})

    def refresh_readers(self, uri: str) -> None:
        """Re-checks the other open documents that read `uri`'s file through an import."""
        path = os.path.realpath(_path(uri))
        for other, analysis in list(self.analyses.items()):
            read = {os.path.realpath(p) for p in analysis.compilation.sources}
            if other != uri and path in read:
                self.refresh(other)

    def analysis(self, uri: str) -> Analysis:
        return self.analyses.get(uri) or self.refresh(uri)

    def tests(self, uri: str) -> list[testlens.TestOutcome]:
        if uri not in self.test_results:
            self.test_results[uri] = testlens.outcomes(self.analysis(uri).compilation.model)
        return self.test_results[uri]

    def uri_of(self, span: ast.Span, analysis: Analysis, uri: str) -> str:
        return uri if span.file == analysis.path else uris.from_fs_path(span.file) or span.file

    def occurrences(
        self, key: Key, origin: Analysis, include_definitions: bool
    ) -> list[types.Location]:
        """Every use of `key` in the open documents that share its declaration with `origin`
        (the document and the files it imports, and other open files importing them)."""
        declared = set(origin.bindings.definitions(key))
        found: dict[tuple[str, int, int], types.Location] = {}
        for uri, analysis in self.analyses.items():
            if analysis is not origin and not declared & set(analysis.bindings.definitions(key)):
                continue
            for span in analysis.bindings.references(key, include_definitions):
                location = types.Location(self.uri_of(span, analysis, uri), convert.to_range(span))
                found.setdefault((location.uri, span.line, span.column), location)
        return list(found.values())


server = ScoreLanguageServer()


def _path(uri: str) -> str:
    return uris.to_fs_path(uri) or f"<{uri}>"


def _key_at(uri: str, position: types.Position) -> Key | None:
    analysis = server.analysis(uri)
    occurrence = analysis.bindings.at(analysis.path, position.line + 1, position.character + 1)
    return occurrence.key if occurrence else None


@server.feature(types.INITIALIZE)
def initialize(params: types.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("docsUrl"), str):
        server.docs_url = options["docsUrl"]


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(params: types.DidOpenTextDocumentParams) -> None:
    server.refresh(params.text_document.uri)
    server.refresh_readers(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(params: types.DidChangeTextDocumentParams) -> None:
    server.refresh(params.text_document.uri)
    server.refresh_readers(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(params: types.DidSaveTextDocumentParams) -> None:
    """Other open documents may import the saved file: check them again too."""
    for uri in list(server.analyses):
        server.refresh(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    server.analyses.pop(uri, None)
    server.test_results.pop(uri, None)
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
    server.refresh_readers(uri)  # they read the file from disk again


@server.feature(types.TEXT_DOCUMENT_HOVER)
def on_hover(params: types.HoverParams) -> types.Hover | None:
    analysis = server.analysis(params.text_document.uri)
    text = hover.hover(analysis, params.position.line + 1, params.position.character + 1)
    if text is None:
        return None
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text))


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=[".", '"', " ", ":"]),
)
def on_completion(params: types.CompletionParams) -> types.CompletionList:
    analysis = server.analysis(params.text_document.uri)
    items = completion.complete(analysis, params.position.line + 1, params.position.character + 1)
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def on_definition(params: types.DefinitionParams) -> list[types.Location]:
    uri = params.text_document.uri
    key = _key_at(uri, params.position)
    if key is None:
        return []
    analysis = server.analysis(uri)
    return [
        types.Location(server.uri_of(span, analysis, uri), convert.to_range(span))
        for span in analysis.bindings.definitions(key)
    ]


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def on_references(params: types.ReferenceParams) -> list[types.Location]:
    uri = params.text_document.uri
    key = _key_at(uri, params.position)
    if key is None:
        return []
    return server.occurrences(key, server.analysis(uri), params.context.include_declaration)


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
def on_prepare_rename(params: types.PrepareRenameParams) -> types.Range | None:
    analysis = server.analysis(params.text_document.uri)
    position = params.position
    occurrence = analysis.bindings.at(analysis.path, position.line + 1, position.character + 1)
    if occurrence is None or not analysis.bindings.definitions(occurrence.key):
        return None
    return convert.to_range(occurrence.span)


@server.feature(types.TEXT_DOCUMENT_RENAME)
def on_rename(params: types.RenameParams) -> types.WorkspaceEdit | None:
    key = _key_at(params.text_document.uri, params.position)
    new = params.new_name
    if key is None:
        return None
    if not NAME.fullmatch(new) or new in keywords():
        raise ValueError(f"`{new}` is not a valid name (letters, digits, _; not a keyword)")
    changes: dict[str, list[types.TextEdit]] = {}
    origin = server.analysis(params.text_document.uri)
    for location in server.occurrences(key, origin, include_definitions=True):
        changes.setdefault(location.uri, []).append(types.TextEdit(location.range, new))
    return types.WorkspaceEdit(changes=changes)


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def on_document_symbol(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    root = server.analysis(params.text_document.uri).root
    return outline.outline(root) if root is not None else []


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def on_formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    """The whole text as `scorelang fmt` prints it; nothing while it does not parse."""
    analysis = server.analysis(params.text_document.uri)
    formatted, _ = format_source(analysis.source, analysis.path)
    if formatted is None or formatted == analysis.source:
        return None if formatted is None else []
    lines = analysis.source.split("\n")
    end = types.Position(len(lines) - 1, len(lines[-1]))
    return [types.TextEdit(types.Range(types.Position(0, 0), end), formatted)]


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def on_code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    return actions.code_actions(server.analysis(uri), uri, params.range)


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
def on_code_lens(params: types.CodeLensParams) -> list[types.CodeLens]:
    uri = params.text_document.uri
    return testlens.code_lenses(server.tests(uri), uri)


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
def on_inlay_hint(params: types.InlayHintParams) -> list[types.InlayHint]:
    uri = params.text_document.uri
    first, last = params.range.start.line, params.range.end.line
    hints = testlens.inlay_hints(server.tests(uri), server.analysis(uri).path)
    return [h for h in hints if first <= h.position.line <= last]


@server.command(testlens.RUN_COMMAND)
def run_tests(uri: str) -> list[dict[str, object]]:
    """Runs the document's tests again (after a change to an imported file, say)."""
    server.test_results.pop(uri, None)
    return testlens.as_json(server.tests(uri))


def main() -> None:
    server.start_io()
