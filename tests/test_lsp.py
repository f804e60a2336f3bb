"""`scorelang lsp` end to end: the real server over stdio, driven by pytest-lsp's client,
on the examples and on broken files."""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = Path(__file__).resolve().parent.parent
ADVANCED = ROOT / "examples" / "advanced" / "model.score"
SHARED = ROOT / "examples" / "advanced" / "shared.score"
B2B = ROOT / "examples" / "b2b_saas" / "model.score"
SERVER = [sys.executable, "-c", "from scorelang.cli import app; app()", "lsp"]

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(scope="module", loop_scope="module", config=ClientServerConfig(SERVER))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=ROOT.as_uri())
    )
    yield
    await lsp_client.shutdown_session()


def position(text: str, needle: str, nth: int = 0, offset: int = 0) -> types.Position:
    """Where the nth occurrence of `needle` starts (plus `offset` characters)."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += offset
    line = text.count("\n", 0, at)
    return types.Position(line, at - (text.rfind("\n", 0, at) + 1))


async def open_text(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "score", 1, text))
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri]


async def change(client: LanguageClient, path: Path, text: str, version: int) -> list:
    uri = path.as_uri()
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version, uri),
            [types.TextDocumentContentChangeWholeDocument(text)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri]


def doc(path: Path) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(path.as_uri())


async def hover_text(client: LanguageClient, path: Path, at: types.Position) -> str:
    result = await client.text_document_hover_async(types.HoverParams(doc(path), at))
    assert result is not None
    return result.contents.value  # type: ignore[union-attr]


# ---- diagnostics ---------------------------------------------------------------------------


@pytest.mark.parametrize("example", sorted(ROOT.glob("examples/*/model.score")), ids=str)
async def test_examples_have_no_errors(client: LanguageClient, example: Path) -> None:
    diagnostics = await open_text(client, example, example.read_text())
    assert not [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]


async def test_check_and_lint_diagnostics_with_codes_spans_hints_and_links(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = B2B.read_text().replace("when industry in", "when indstry in", 1)
    path = tmp_path / "typo.score"
    (error,) = await open_text(client, path, text)
    assert error.code == "E200"
    assert error.severity == types.DiagnosticSeverity.Error
    assert error.range.start == position(text, "indstry")
    assert error.range.end == position(text, "indstry", offset=len("indstry"))
    assert "did you mean `industry`?" in error.message
    assert error.code_description.href.endswith("docs/diagnostics.md#e200")
    # Fixed in an edit: the lint findings appear, each linked to its page.
    text = text.replace("indstry", "industry").replace("+2 max 10", "+2")
    diagnostics = await change(client, path, text, 2)
    lint = [d for d in diagnostics if d.code == "SL012"]
    assert lint and lint[0].severity == types.DiagnosticSeverity.Warning
    assert lint[0].code_description.href.endswith("docs/rules/SL012.md")
    assert lint[0].range.start == position(text, "each email_click")


async def test_syntax_error(client: LanguageClient, tmp_path: Path) -> None:
    text = B2B.read_text().replace("clamp 0..100", "clamp 0..", 1)
    (error,) = await open_text(client, tmp_path / "syntax.score", text)
    assert error.code.startswith("E1")


async def test_a_syntax_error_does_not_hide_the_other_errors(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = B2B.read_text().replace("clamp 0..100", "clamp 0..", 1)
    text += 'flag odd = engagement == "high"\n'  # `fit` holds the syntax error
    diagnostics = await open_text(client, tmp_path / "two.score", text)
    assert [d.code for d in diagnostics] == ["E100", "E300"]
    assert diagnostics[1].range.start == position(text, '"high"')


async def test_errors_in_an_imported_file_are_shown_at_the_import(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "shared.score").write_text("const cap = 12\nconst free_email = [1,\n")
    text = ADVANCED.read_text()
    (tmp_path / "model.score").write_text(text)
    diagnostics = await open_text(client, tmp_path / "model.score", text)
    at_import = [d for d in diagnostics if d.range.start == position(text, '"shared.score"')]
    assert at_import and at_import[0].severity == types.DiagnosticSeverity.Error
    assert "shared.score:2:" in at_import[0].message
    related = at_import[0].related_information[0].location
    assert related.uri == (tmp_path / "shared.score").as_uri()
    assert related.range.start.line == 1


async def test_imports_are_read_from_the_open_buffers(
    client: LanguageClient, tmp_path: Path
) -> None:
    """An imported file open in the editor is checked as it is there, unsaved; its readers
    are checked again when it changes or closes."""
    saved = "lead {\n  id: string key\n}\n"
    (tmp_path / "shared.score").write_text(saved)
    model, shared = tmp_path / "model.score", tmp_path / "shared.score"
    text = 'import "shared.score"\nscore s {\n  when seats > 1: +1\n}\n'
    model.write_text(text)
    assert [d.code for d in await open_text(client, model, text)] == ["E200"]

    async def model_codes(expected: list[str]) -> list[str]:
        for _ in range(200):
            diagnostics = client.diagnostics[model.as_uri()]
            codes = [d.code for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]
            if codes == expected:
                break
            await asyncio.sleep(0.05)
        return codes

    unsaved = saved.replace("key\n", "key\n  seats: int?\n")
    await open_text(client, shared, unsaved)
    assert await model_codes([]) == []
    await change(client, shared, saved, 2)
    assert await model_codes(["E200"]) == ["E200"]
    await change(client, shared, unsaved, 3)
    assert await model_codes([]) == []
    client.text_document_did_close(types.DidCloseTextDocumentParams(doc(shared)))
    assert await model_codes(["E200"]) == ["E200"]  # back to the saved file


# ---- hover -----------------------------------------------------------------------------------


async def test_hovers(client: LanguageClient) -> None:
    text = ADVANCED.read_text()
    await open_text(client, ADVANCED, text)
    field = await hover_text(client, ADVANCED, position(text, "employees between", offset=2))
    assert "employees: int?" in field and "may be missing" in field
    key = await hover_text(client, ADVANCED, position(text, "id: string key", offset=0))
    assert "the lead's key" in key and "always present" in key
    prop = await hover_text(client, ADVANCED, position(text, "url starts with", offset=1))
    assert "url: string" in prop and "`page_view`" in prop
    const = await hover_text(client, ADVANCED, position(text, "target_industries", nth=0))
    assert 'const target_industries = ["software", "saas", "fintech", "devtools"]' in const
    segment = await hover_text(client, ADVANCED, position(text, "when enterprise", offset=6))
    assert "segment enterprise = employees > 5000 or annual_revenue >= 100000000" in segment
    score = await hover_text(client, ADVANCED, position(text, "engagement - fit"))
    assert 'group "web" max 30' in score and "clamp 0..100" in score
    rule = await hover_text(client, ADVANCED, position(text, "+1 decay 7d"))
    assert "Adds 1 points per matching event" in rule
    assert "halve every 7d" in rule and 'group "web"' in rule and "0..100" in rule
    capped = await hover_text(client, ADVANCED, position(text, "+5 once per 7d max 20"))
    assert "once per 7d" in capped and "at most 20 points" in capped
    constant_points = await hover_text(client, ADVANCED, position(text, "+strong_signal", offset=3))
    assert "const strong_signal = 25" in constant_points
    function = await hover_text(client, ADVANCED, position(text, "days_since(first"))
    assert "days_since(t)" in function and "in days" in function
    keyword = await hover_text(client, ADVANCED, position(text, "within 30d"))
    assert "E within D" in keyword


# ---- completion ------------------------------------------------------------------------------


async def labels(client: LanguageClient, path: Path, text: str, at: types.Position) -> set[str]:
    await change(client, path, text, 10)
    result = await client.text_document_completion_async(types.CompletionParams(doc(path), at))
    return {item.label for item in result.items}  # type: ignore[union-attr]


async def test_completion(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "complete.score"
    base = B2B.read_text()
    await open_text(client, path, base)
    # a new declaration, at the top level
    text = base + "\n"
    found = await labels(client, path, text, position(text + "x", "x", nth=base.count("x")))
    assert {"score", "segment", "tier", "flag", "test", "const"} <= found
    # a rule, in a score
    text = base.replace("  clamp 0..100\n}", "  \n  clamp 0..100\n}", 1)
    found = await labels(client, path, text, position(text, "  \n  clamp", offset=2))
    assert {"when", "each", "each (decay)", "group", "clamp"} <= found
    # names in a condition (this half-typed rule does not parse: the last good model is used)
    text = base.replace("  clamp 0..100\n}", "  when em\n  clamp 0..100\n}", 1)
    found = await labels(client, path, text, position(text, "when em", offset=7))
    assert {"employees", "mid_market", "free_email", "page_view", "lower", "and"} <= found
    # properties after `where`
    text = base.replace("form == ", "f", 1)
    found = await labels(client, path, text, position(text, 'where f"contact', offset=7))
    assert found >= {"form", "free_email"} and "url" not in found
    # lead fields after `lead.`
    text = base.replace("  clamp 0..100\n}", "  when lead.\n  clamp 0..100\n}", 1)
    found = await labels(client, path, text, position(text, "lead.\n", offset=5))
    assert found == {"id", "email", "job_title", "industry", "employees", "country", "created_at"}
    # durations after `within`
    text = base.replace("within 7d", "within ", 1)
    found = await labels(client, path, text, position(text, "within :", offset=7))
    assert {"7d", "30d", "1h"} <= found
    text = base.replace("when mid_market:", "when mid_market and :", 1)
    found = await labels(client, path, text, position(text, "mid_market and ", offset=15))
    assert "employees" in found and "7d" not in found
    text = base.replace("within 7d", "between 7d and ", 1)
    found = await labels(client, path, text, position(text, "between 7d and ", offset=15))
    assert {"7d", "30d", "1h"} <= found
    # each options after the points
    text = base.replace('+2 max 10 "Email clicks"', "+2 ", 1)
    found = await labels(client, path, text, position(text, "30d: +2 ", offset=8))
    assert {"max", "decay", "decay linear", "once per"} <= found
    # tier labels inside a string compared with a tier
    text = base.replace("flag mql = total >= 70", 'flag mql = stage == "', 1)
    found = await labels(client, path, text, position(text, 'stage == "', offset=10))
    assert found == {"decision", "evaluation", "interest", "awareness"}
    # scores after `tier ... from`
    text = base.replace("tier stage from total", "tier stage from ", 1)
    found = await labels(client, path, text, position(text, "from  {", offset=5))
    assert found == {"fit", "engagement", "total"}
    # events in a test's events block, properties in an event, outputs after expect
    found = await labels(client, path, base, position(base, 'page_view { url: "/pricing" } at'))
    assert "demo_request" in found and "employees" not in found
    found = await labels(client, path, base, position(base, 'url: "/pricing" } at'))
    assert "url" in found
    found = await labels(client, path, base, position(base, "expect ", offset=7))
    assert {"fit", "stage", "mql"} <= found and "employees" not in found


# ---- navigation --------------------------------------------------------------------------


async def test_definition_references_and_rename_across_imports(client: LanguageClient) -> None:
    text, shared = ADVANCED.read_text(), SHARED.read_text()
    await open_text(client, ADVANCED, text)
    use = position(text, "in free_email", offset=3)
    (definition,) = await client.text_document_definition_async(
        types.DefinitionParams(doc(ADVANCED), use)
    )
    assert definition.uri == SHARED.as_uri()
    assert definition.range.start == position(shared, "free_email")
    references = await client.text_document_references_async(
        types.ReferenceParams(
            context=types.ReferenceContext(True), text_document=doc(ADVANCED), position=use
        )
    )
    assert {(r.uri, r.range.start.line) for r in references} == {
        (SHARED.as_uri(), position(shared, "free_email").line),
        (ADVANCED.as_uri(), use.line),
    }
    edit = await client.text_document_rename_async(
        types.RenameParams(doc(ADVANCED), use, "webmail")
    )
    assert {uri: len(edits) for uri, edits in edit.changes.items()} == {
        SHARED.as_uri(): 1,
        ADVANCED.as_uri(): 1,
    }
    # a lead field: its declaration, rules, segments and the tests' lead blocks
    field = position(text, "employees between")
    references = await client.text_document_references_async(
        types.ReferenceParams(
            context=types.ReferenceContext(False), text_document=doc(ADVANCED), position=field
        )
    )
    assert len(references) == text.count("employees") - 1
    # an event property, used after `where` and in a test event
    prop = position(text, "where (feature ==", offset=7)
    (definition,) = await client.text_document_definition_async(
        types.DefinitionParams(doc(ADVANCED), prop)
    )
    assert definition.range.start == position(text, "feature: string")
    references = await client.text_document_references_async(
        types.ReferenceParams(
            context=types.ReferenceContext(False), text_document=doc(ADVANCED), position=prop
        )
    )
    assert len(references) == text.count("feature ==") + text.count("{ feature:") - 1
    with pytest.raises(Exception, match="not a valid name"):
        await client.text_document_rename_async(types.RenameParams(doc(ADVANCED), prop, "when"))


async def test_document_symbols(client: LanguageClient) -> None:
    await open_text(client, B2B, B2B.read_text())
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(doc(B2B)))
    names = [s.name for s in symbols]
    assert names[:3] == ["b2b_saas", "lead", "page_view"]
    assert {"fit", "engagement", "total", "stage", "mql"} <= set(names)
    fit = next(s for s in symbols if s.name == "fit")
    assert fit.kind == types.SymbolKind.Class and "Target industry" in [
        c.name for c in fit.children
    ]
    stage = next(s for s in symbols if s.name == "stage")
    assert [c.name for c in stage.children] == ["decision", "evaluation", "interest", "awareness"]
    assert any(s.kind == types.SymbolKind.Method for s in symbols)  # the tests


# ---- formatting and fixes ------------------------------------------------------------------


async def test_formatting(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "messy.score"
    tidy = B2B.read_text()
    messy = tidy.replace(
        "  when industry in target_industries:", "when   industry in target_industries :"
    )
    await open_text(client, path, messy)
    params = types.DocumentFormattingParams(doc(path), types.FormattingOptions(2, True))
    (edit,) = await client.text_document_formatting_async(params)
    assert edit.new_text == tidy
    await change(client, path, tidy, 2)
    assert not await client.text_document_formatting_async(params)
    await change(client, path, tidy + "score {", 3)
    assert await client.text_document_formatting_async(params) is None


async def fixes(client: LanguageClient, path: Path, line: int) -> list[types.CodeAction]:
    whole = types.Range(types.Position(line, 0), types.Position(line, 200))
    context = types.CodeActionContext(diagnostics=[])
    return await client.text_document_code_action_async(
        types.CodeActionParams(doc(path), whole, context)
    )


async def test_code_actions(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "fixes.score"
    text = B2B.read_text().replace("when industry in", "when indstry in", 1)
    await open_text(client, path, text)
    # the file has an error, yet hover and navigation work on the rest of it
    const = await hover_text(client, path, position(text, "in target_industries", offset=4))
    assert "const target_industries" in const
    (definition,) = await client.text_document_definition_async(
        types.DefinitionParams(doc(path), position(text, "in free_email", offset=4))
    )
    assert definition.range.start == position(text, "free_email")
    (action,) = await fixes(client, path, position(text, "indstry").line)
    assert action.title == "Replace with `industry`"
    (edit,) = action.edit.changes[path.as_uri()]
    assert edit.new_text == "industry" and edit.range.start == position(text, "indstry")
    # lint fixes: a cap for an uncapped `each`, a decay for a score that never forgets
    text = B2B.read_text().replace("+2 max 10", "+2").replace(" decay 14d", "")
    text = "".join(
        line for line in text.splitlines(keepends=True) if "when no activity" not in line
    )
    await change(client, path, text, 2)
    line = position(text, "each email_click").line
    titles = {a.title: a for a in await fixes(client, path, line)}
    (edit,) = titles["Add `max 20`"].edit.changes[path.as_uri()]
    assert edit.new_text == " max 20" and edit.range.start == position(text, ' "Email clicks"')
    line = position(text, "score engagement").line
    titles = {a.title: a for a in await fixes(client, path, line)}
    (edit,) = titles["Add `decay 14d` to an `each` rule"].edit.changes[path.as_uri()]
    assert edit.new_text == " decay 14d" and edit.range.start == position(text, ' "Email clicks"')
    assert "Add `when no activity within 30d: -10`" in titles


# ---- tests in the editor -------------------------------------------------------------------


async def test_code_lenses_and_inlay_hints_run_the_tests(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "tests.score"
    text = B2B.read_text()
    await open_text(client, path, text)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(doc(path)))
    assert len(lenses) == text.count('\ntest "')
    assert all(lens.command.title == "✓ test passed" for lens in lenses)
    assert lenses[0].range.start == position(text, "test ")
    first_expect = text[text.index("expect ") :].split("\n")[0]
    wrong = first_expect.replace("==", "!=", 1) if "==" in first_expect else first_expect
    broken = text.replace(first_expect, wrong, 1)
    await change(client, path, broken, 2)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(doc(path)))
    assert lenses[0].command.title.startswith("✗ test failed: ")
    assert "expected" in lenses[0].command.title and "actual" in lenses[0].command.title
    everything = types.Range(types.Position(0, 0), types.Position(10_000, 0))
    (hint,) = await client.text_document_inlay_hint_async(
        types.InlayHintParams(doc(path), everything)
    )
    assert hint.position.line == position(broken, wrong).line
    assert "actual" in hint.label
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("scorelang.runTests", [path.as_uri()])
    )
    assert [r["passed"] for r in result][:2] == [False, True]


# ---- hostile input over the wire -----------------------------------------------------------


def mangled(text: str, rng: random.Random) -> str:
    """The example with a few tokens deleted, duplicated or swapped, or cut short."""
    tokens = re.findall(r"\s+|\w+|\S", text)
    for _ in range(rng.randint(1, 5)):
        i, j = rng.randrange(len(tokens)), rng.randrange(len(tokens))
        match rng.choice(["delete", "duplicate", "swap", "truncate"]):
            case "delete":
                del tokens[i]
            case "duplicate":
                tokens.insert(i, tokens[i])
            case "swap":
                tokens[i], tokens[j] = tokens[j], tokens[i]
            case "truncate":
                tokens = tokens[: max(i, 1)]
    return "".join(tokens)


async def test_the_server_answers_every_request_on_broken_text(
    client: LanguageClient, tmp_path: Path
) -> None:
    """Mangled examples sent as edits: every request gets an answer, none an error (the
    in-process fuzzing of tests/test_lsp_fuzz.py goes much further)."""
    rng = random.Random(20)
    path = tmp_path / "mangled.score"
    examples = [p.read_text() for p in sorted(ROOT.glob("examples/*/model.score"))]
    await open_text(client, path, examples[0])
    for version in range(2, 32):
        text = mangled(rng.choice(examples), rng)
        await change(client, path, text, version)
        lines = text.split("\n")
        line = rng.randrange(len(lines))
        at = types.Position(line, rng.randint(0, len(lines[line])))
        await client.text_document_hover_async(types.HoverParams(doc(path), at))
        await client.text_document_completion_async(types.CompletionParams(doc(path), at))
        await client.text_document_definition_async(types.DefinitionParams(doc(path), at))
        await client.text_document_document_symbol_async(types.DocumentSymbolParams(doc(path)))
        await client.text_document_code_lens_async(types.CodeLensParams(doc(path)))
        await fixes(client, path, line)
        params = types.DocumentFormattingParams(doc(path), types.FormattingOptions(2, True))
        await client.text_document_formatting_async(params)


# ---- the benchmark stays runnable (its figures belong to bench/, not here) ------------------


async def test_the_benchmark_runs() -> None:
    bench = ROOT / "bench" / "bench_lsp.py"
    done = subprocess.run(
        [sys.executable, str(bench), "--rules", "50", "--edits", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "re-check after an edit, over stdio: median" in done.stdout
