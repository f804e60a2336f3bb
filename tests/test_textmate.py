"""The TextMate grammar (editors/vscode/syntaxes) and the VS Code extension, through the
project script scripts/editor-test: tokenized with vscode-textmate as VS Code does, every
token of every example gets the scope its kind in the compiler's own lexer calls for, and
the tricky lines get exactly the scopes written here. The extension packages with vsce."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from lark import Lark

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "editor-test"
EXAMPLES = sorted(ROOT.glob("examples/*/*.score"))
LEXER = Lark((ROOT / "grammar" / "scorelang.lark").read_text(encoding="utf-8"), parser="lalr")

# Token kinds of the compiler's lexer -> the scope prefixes a token of that kind may carry.
EXPECTED = {
    "STRING": ("string.quoted",),
    "REGEX": ("string.regexp",),
    "DURATION": ("constant.numeric.duration",),
    "NUMBER": ("constant.numeric",),
    "COMMENT": ("comment",),
}
KEYWORD_SCOPES = (
    "keyword",
    "storage",
    "constant.language",
    "variable.language",
    "support.function",
)
NOT_A_NAME = ("keyword", "string", "comment", "constant")

TRICKY = {
    # a `/` inside a class, escaped as the language requires; flags
    r"const docs = /^\/docs\/[^\/]+$/i": [
        (r"/^\/docs\/[^\/]+$/i", "string.regexp.score"),
        (r"[^\/]", "constant.other.character-class.score"),
        ("i", "keyword.other.regex-flags.score"),
    ],
    # `#` inside a string and inside a label is no comment; the one after is
    'when campaign == "#launch": +1 "Tag # one"  # a comment': [
        ('"#launch"', "string.quoted.double.score"),
        ('"Tag # one"', "string.quoted.double.label.score"),
        ("# a comment", "comment.line.number-sign.score"),
        ("+", "keyword.operator.points.score"),
        ("1", "constant.numeric.points.score"),
    ],
    r'flag quoted = note == "say \"hi\" # there"': [
        (r'"say \"hi\" # there"', "string.quoted.double.score"),
        (r"\"", "constant.character.escape.score"),
    ],
    # division is no pattern
    "score blend = (2 * fit + 3 * engagement) / 5 / 2": [
        ("/", "keyword.operator.arithmetic.score"),
        ("blend", "entity.name.type.score"),
    ],
    # nested braces on one line: the line after is back at the top level
    'test "t" { lead { id: "x" } events { page_view { url: "/a" } at -1d } expect fit == 1 }': [
        ("1d", "constant.numeric.duration.score"),
        ("at", "keyword.control.rule.score"),
        ("expect", "keyword.control.rule.score"),
        ("url", "variable.other.property.score"),
    ],
    "score after { when fit > 1: reset }": [
        ("score", "storage.type.declaration.score"),
        ("reset", "keyword.control.reset.score"),
    ],
    # each options: percent, durations, a const as points, a label
    'each page_view: +boost decay linear 25% per 7d max 20 "Docs, weekly"': [
        ("boost", "variable.other.constant.points.score"),
        ("25%", "constant.numeric.score"),
        ("7d", "constant.numeric.duration.score"),
        ("linear", "keyword.other.option.score"),
        ('"Docs, weekly"', "string.quoted.double.label.score"),
    ],
    # a test value is no award
    "    created_at: -20d": [("20d", "constant.numeric.duration.score")],
    '  group "web" max 30 {': [('"web"', "string.quoted.double.label.score")],
    "when no activity within 30d: -10 # scorelang: ignore[SL003]": [
        ("ignore[SL003]", "comment.line.suppression.score"),
        ("activity", "variable.language.score"),
        ("no", "keyword.operator.word.score"),
    ],
    "  employees: int? key": [
        ("int", "support.type.score"),
        ("?", "keyword.operator.optional.score"),
        ("key", "storage.modifier.key.score"),
    ],
}


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    corpus = tmp_path_factory.mktemp("textmate") / "tricky.score"
    corpus.write_text("\n".join(TRICKY) + "\n", encoding="utf-8")
    files = [*map(str, EXAMPLES), str(corpus)]
    done = subprocess.run(
        [str(SCRIPT), "tokenize", *files], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    result["tricky"] = result.pop(str(corpus))
    return result


def scopes_at(line_tokens: list, column: int) -> list[str]:
    return next(scopes for start, end, scopes in line_tokens if start <= column < end)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_token_of_the_examples_has_its_scope(tokens: dict, example: Path) -> None:
    lines = tokens[str(example)]
    wrong = []
    for token in LEXER.lex(example.read_text(encoding="utf-8"), dont_ignore=True):
        if token.type in ("WS",) or token.line is None:
            continue
        scopes = scopes_at(lines[token.line - 1], token.column - 1)
        text = str(token)
        if token.type in EXPECTED:
            allowed = EXPECTED[token.type]
            ok = any(s.startswith(allowed) for s in scopes)
        elif token.type == "NAME":
            ok = not any(s.startswith(NOT_A_NAME) for s in scopes[1:])
        elif token.type == text.upper() and text.isidentifier():  # a keyword
            ok = any(s.startswith(KEYWORD_SCOPES) for s in scopes)
        else:
            continue
        if not ok:
            wrong.append(f"{token.line}:{token.column} {token.type} {text!r}: {scopes}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("line", list(TRICKY))
def test_tricky_lines(tokens: dict, line: str) -> None:
    line_tokens = tokens["tricky"][list(TRICKY).index(line)]
    for text, scope in TRICKY[line]:
        start = line.index(text)
        for column in range(start, start + len(text)):
            assert scope in scopes_at(line_tokens, column), (text, column, line_tokens)


def test_the_extension_packages() -> None:
    vsix = ROOT / "editors" / "vscode" / "dist" / "scorelang.vsix"
    vsix.unlink(missing_ok=True)
    done = subprocess.run([str(SCRIPT), "package"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    names = set(zipfile.ZipFile(vsix).namelist())
    assert {
        "extension/package.json",
        "extension/extension.js",
        "extension/language-configuration.json",
        "extension/syntaxes/score.tmLanguage.json",
        "extension/node_modules/vscode-languageclient/package.json",
    } <= names
