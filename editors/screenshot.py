"""Draws docs/images/editor.png: an example model highlighted by the TextMate grammar (as
VS Code tokenizes it, through scripts/editor-test) with the language server's diagnostic for
a typo shown inline, rendered as HTML and photographed by headless chromium.

    python editors/screenshot.py [--out docs/images/editor.png]
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from scorelang.lsp import convert
from scorelang.lsp.analysis import analyse

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "b2b_saas" / "model.score"
LINES = 40  # the schema, the consts, the segments and the first score
TYPO = ("when industry in", "when indstry in")
# Scope prefixes -> CSS, most specific first (colours of VS Code's Light+ theme).
THEME = (
    ("comment", "color:#008000;font-style:italic"),
    ("string.quoted.double.label", "color:#0451a5"),
    ("string.regexp", "color:#811f3f"),
    ("string", "color:#a31515"),
    ("constant.numeric.duration", "color:#098658;font-weight:600"),
    ("constant.numeric", "color:#098658"),
    ("keyword.operator.points", "color:#098658"),
    ("keyword.control", "color:#af00db"),
    ("keyword.operator.word", "color:#0000ff"),
    ("keyword.other", "color:#0000ff"),
    ("storage", "color:#0000ff"),
    ("constant.language", "color:#0000ff"),
    ("entity.name", "color:#267f99"),
    ("support.type", "color:#267f99"),
    ("support.function", "color:#795e26"),
    ("variable.language", "color:#0070c1"),
    ("variable.other", "color:#001080"),
)


def style(scopes: list[str]) -> str:
    for scope in reversed(scopes):
        for prefix, css in THEME:
            if scope.startswith(prefix):
                return css
    return ""


def render(text: str, tokens: list[list], path: str) -> str:
    diagnostic = next(d for d in convert.diagnostics(analyse(text, path)) if d.severity == 1)
    start, end = diagnostic.range.start, diagnostic.range.end
    rows = []
    for number, (line, line_tokens) in enumerate(zip(text.split("\n"), tokens, strict=False)):
        spans = []
        marked = (start.character, end.character) if number == start.line else (0, 0)
        for first, last, scopes in line_tokens:
            cuts = sorted({first, last, *(c for c in marked if first < c < last)})
            for a, b in itertools.pairwise(cuts):
                piece = html.escape(line[a:b])
                if marked[0] <= a and b <= marked[1]:
                    piece = f'<span class="squiggle">{piece}</span>'
                spans.append(f'<span style="{style(scopes)}">{piece}</span>')
        code = "".join(spans)
        if number == start.line:
            message = html.escape(diagnostic.message.replace("\n", " — "))
            code += f'<span class="inline">  {diagnostic.code}: {message}</span>'
        rows.append(f'<div class="row"><span class="gutter">{number + 1}</span>{code}</div>')
    return PAGE.replace("{rows}", "\n".join(rows))


PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 0; background: #fff; font: 14px/20px "DejaVu Sans Mono", monospace; }
.tab { background: #f3f3f3; padding: 6px 16px; font-family: sans-serif; font-size: 13px; color: #333; }
.row { white-space: pre; padding-right: 16px; }
.gutter { display: inline-block; width: 40px; margin-right: 16px; text-align: right; color: #999; }
.squiggle { text-decoration: underline wavy #e51400; text-decoration-skip-ink: none; }
.inline { color: #e51400; background: #fdecea; font-style: italic; }
</style></head><body><div class="tab">model.score — scorelang</div>
{rows}
</body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "editor.png")
    args = parser.parse_args()
    lines = EXAMPLE.read_text(encoding="utf-8").split("\n")[:LINES]
    text = "\n".join(lines).replace(*TYPO) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.score"
        model.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [str(ROOT / "scripts" / "editor-test"), "tokenize", str(model)],
            capture_output=True,
            text=True,
            check=True,
        )
        page = Path(tmp) / "editor.html"
        page.write_text(render(text, json.loads(done.stdout)[str(model)], str(model)), "utf-8")
        chromium = shutil.which("chromium") or "chromium"
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--screenshot={args.out}", f"--window-size=1100,{30 + 20 * (LINES + 1)}", page.as_uri(),
        ]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
