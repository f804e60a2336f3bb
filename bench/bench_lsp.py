"""Benchmark: how long `scorelang lsp` takes to re-check a large model after an edit.

A model of N rules (the b2b_saas schema, five rule forms in turn) is opened in the real
server over stdio; each edit changes one rule's points, and the time from sending
`didChange` to receiving the new diagnostics is measured (the whole re-check: parse,
check, lint, publish). The in-process stages are timed too, to show where the time goes.
Target: the median under 200 ms for 1,000 rules.

    python bench/bench_lsp.py [--rules 1000] [--edits 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from scorelang.compiler import lint
from scorelang.compiler.frontend import compile_source
from scorelang.compiler.parse import parse

from scorelang.lsp.analysis import analyse

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "b2b_saas" / "model.score"
FORMS = (
    'when visited "/page/{i}" within 7d: +5 "Page {i}"',
    'when employees > {i}: +2 "More than {i} employees"',
    'each email_click where campaign == "c{i}" within 30d: +2 max 10 "Campaign {i}"',
    'when count(email_open within {days}d) >= 3: +5 "Opens in {days} days, {i}"',
    'when industry in target_industries and country == "C{i}": +1 "Country {i}"',
)
TARGET_MS = 200


def model(rules: int, edit: int = 0) -> str:
    """The schema and consts of the example, then one score of `rules` rules; `edit` changes
    the points of one rule."""
    schema = EXAMPLE.read_text(encoding="utf-8").split("segment decision_maker")[0]
    lines = ["  " + FORMS[i % len(FORMS)].format(i=i, days=i % 90 + 1) for i in range(rules)]
    if edit:
        target = edit * 7919 % rules
        lines[target] = lines[target].replace(": +", f": +{edit}", 1)
    body = "\n".join(lines)
    return f"{schema}score big {{\n{body}\n  each page_view: +1 decay 7d max 20\n}}\n"


async def server_times(rules: int, edits: int) -> list[float]:
    client = LanguageClient("bench", "1")
    received: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: types.PublishDiagnosticsParams) -> None:
        received.put_nowait(params)

    await client.start_io(sys.executable, "-c", "from scorelang.cli import app; app()", "lsp")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    uri = (Path.cwd() / "bench-lsp.score").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "score", 0, model(rules)))
    )
    first = await received.get()
    errors = [d for d in first.diagnostics if d.severity == types.DiagnosticSeverity.Error]
    assert not errors, errors
    times = []
    for edit in range(1, edits + 1):
        text = model(rules, edit)
        start = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(edit, uri),
                [types.TextDocumentContentChangeWholeDocument(text)],
            )
        )
        await received.get()
        times.append(time.perf_counter() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def stage_times(rules: int, edits: int) -> dict[str, float]:
    """Medians of the in-process stages on the same edits: parsing alone, the front end
    (parse, check, lower), the linter, and all the server runs per edit."""
    stages: dict[str, list[float]] = {"parse": [], "front end": [], "lint": [], "analyse": []}
    for edit in range(1, edits + 1):
        text = model(rules, edit)
        compilation = compile_source(text, "big.score")
        runs = {
            "parse": lambda text=text: parse(text, "big.score"),
            "front end": lambda text=text: compile_source(text, "big.score"),
            "lint": lambda c=compilation: lint.lint(
                lint.LintContext(c.modules["big.score"], c.model)
            ),
            "analyse": lambda text=text: analyse(text, "big.score"),
        }
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            stages[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=15)
    args = parser.parse_args()
    times = asyncio.run(server_times(args.rules, args.edits))
    median = statistics.median(times) * 1000
    print(f"model: {args.rules} rules, {len(model(args.rules).splitlines())} lines")
    print(
        f"re-check after an edit, over stdio: median {median:.0f} ms, "
        f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms ({args.edits} edits)"
    )
    print(f"ratio to the {TARGET_MS} ms target: {median / TARGET_MS:.2f}")
    for name, seconds in stage_times(args.rules, args.edits).items():
        print(f"  in process, {name}: median {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
