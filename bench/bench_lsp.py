"""Benchmark: how long `scorelang lsp` takes to re-check a large model after an edit.

A model of N rules (the b2b_saas schema, five rule forms in turn) is opened in the real
server over stdio; each edit changes one rule's points, and the time from sending
`didChange` to receiving the new diagnostics is measured (the whole re-check: parse,
check, lint, publish), in wall time and in the server process's CPU time (from
/proc/<pid>/stat, 10 ms ticks; machines are shared, CPU time is the steadier figure).
In process, side by side on the same edits (CPU time): the full re-check of the whole text
(what the server did before compiler/reparse.py) and the incremental one (the previous
analysis reused), with the stages of each. Target: the median under 200 ms for 1,000 rules.

    python bench/bench_lsp.py [--rules 1000] [--edits 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from scorelang.compiler import lint
from scorelang.compiler.frontend import compile_source
from scorelang.compiler.parse import parse
from scorelang.compiler.reparse import reparse

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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def server_times(rules: int, edits: int) -> tuple[list[float], list[float]]:
    """Wall and server CPU seconds from each `didChange` to its diagnostics."""
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
    pid = client._server.pid  # type: ignore[union-attr]
    times, cpu = [], []
    for edit in range(1, edits + 1):
        text = model(rules, edit)
        start, start_cpu = time.perf_counter(), cpu_seconds(pid)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(edit, uri),
                [types.TextDocumentContentChangeWholeDocument(text)],
            )
        )
        await received.get()
        times.append(time.perf_counter() - start)
        cpu.append(cpu_seconds(pid) - start_cpu)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times, cpu


def stage_times(rules: int, edits: int) -> dict[str, float]:
    """Medians (CPU seconds) of the in-process stages on the same edits, each edit following
    the previous one as in an editor: the full re-check and its parse, front end and lint;
    the incremental re-check and its parse."""
    stages: dict[str, list[float]] = {
        "full re-check (analyse)": [],
        "  parse": [],
        "  front end": [],
        "  lint": [],
        "incremental re-check (analyse after the previous)": [],
        "  parse (reparse)": [],
    }
    previous_text = model(rules)
    previous = analyse(previous_text, "big.score")
    for edit in range(1, edits + 1):
        text = model(rules, edit)
        compilation = compile_source(text, "big.score")
        module = previous.compilation.modules["big.score"]
        runs = {
            "full re-check (analyse)": lambda text=text: analyse(text, "big.score"),
            "  parse": lambda text=text: parse(text, "big.score"),
            "  front end": lambda text=text: compile_source(text, "big.score"),
            "  lint": lambda c=compilation: lint.lint(
                lint.LintContext(c.modules["big.score"], c.model)
            ),
            "incremental re-check (analyse after the previous)": lambda text=text, p=previous: (
                analyse(text, "big.score", p)
            ),
            "  parse (reparse)": lambda text=text, m=module: reparse(m, text),
        }
        for name, run in runs.items():
            start = time.process_time()
            run()
            stages[name].append(time.process_time() - start)
        previous = analyse(text, "big.score", previous)
    return {name: statistics.median(values) for name, values in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=15)
    args = parser.parse_args()
    times, cpu = asyncio.run(server_times(args.rules, args.edits))
    median, median_cpu = statistics.median(times) * 1000, statistics.median(cpu) * 1000
    print(f"model: {args.rules} rules, {len(model(args.rules).splitlines())} lines")
    print(
        f"re-check after an edit, over stdio: median {median:.0f} ms wall "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}), "
        f"server CPU median {median_cpu:.0f} ms ({args.edits} edits)"
    )
    print(
        f"ratio to the {TARGET_MS} ms target: wall {median / TARGET_MS:.2f}, "
        f"CPU {median_cpu / TARGET_MS:.2f}"
    )
    stages = stage_times(args.rules, args.edits)
    print("in process (CPU time, medians):")
    for name, seconds in stages.items():
        print(f"  {name}: {seconds * 1000:.0f} ms")
    full = stages["full re-check (analyse)"]
    incremental = stages["incremental re-check (analyse after the previous)"]
    print(f"incremental / full re-check: {incremental / full:.2f}")


if __name__ == "__main__":
    main()
