"""`matches` patterns (the portable RE2 subset of compiler/regex.py), rewritten per engine.

DuckDB and BigQuery run RE2 itself, whose `\\d \\w \\s` are ASCII; they are still spelled
out as the classes they mean, so that no engine's build or locale decides. Postgres (ARE),
Snowflake (POSIX ERE with Perl escapes) and Spark (java.util.regex) differ in ways that
change results, so each pattern is rewritten token by token:

* Postgres: `.` matches a newline in ARE, so it becomes `[^\\n]`; `\\d \\w \\s` and `\\b \\B`
  follow the locale there (`é` is a word character), so they become the ASCII classes and
  lookaround assertions RE2 means.
* Snowflake: no `(?:`, no lazy quantifiers (neither changes *whether* a pattern matches, so
  `(?:` becomes `(` and the laziness is dropped); control escapes become the characters;
  `\\d \\w \\s` (and negations) become the ASCII classes RE2 means, spelled with the
  characters themselves (Snowflake documents `\\s` only as "whitespace"); another escaped
  character inside `[...]` is refused (ERE reads the backslash literally there).
"""

from __future__ import annotations

from collections.abc import Callable

from ...compiler.regex import Token, class_items, tokens
from .errors import UnsupportedConstruct

WORD = "0-9A-Za-z_"
SPACE = "\\t\\n\\f\\r "  # RE2's \s, spelled with ARE escapes
_CLASS_SETS = {"d": "0-9", "w": WORD, "s": SPACE}
_CONTROL = {"n": "\n", "r": "\r", "t": "\t"}
# RE2's classes for an ERE, whose brackets read a backslash literally: the characters.
_ERE_SETS = {"d": "0-9", "w": WORD, "s": "\t\n\f\r "}
_ERE_SPECIAL = set(".[]{}()\\*+?^$|")


def translate(pattern: str, rewrite: Callable[[Token], str]) -> str:
    return "".join(rewrite(token) for token in tokens(pattern))


# ---- RE2 (DuckDB, BigQuery) ---------------------------------------------------------------

_RE2_ESCAPES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": f"[{WORD}]",
    "W": f"[^{WORD}]",
    "s": f"[{SPACE}]",
    "S": f"[^{SPACE}]",
}


def to_re2(pattern: str) -> str:
    def rewrite(token: Token) -> str:
        if token.kind == "escape":
            return _RE2_ESCAPES.get(token.text[1], token.text)
        return token.text

    return translate(pattern, rewrite)


# ---- Postgres ARE ------------------------------------------------------------------------

_PG_ESCAPES = {
    **_RE2_ESCAPES,
    "b": f"(?:(?<=[{WORD}])(?![{WORD}])|(?<![{WORD}])(?=[{WORD}]))",
    "B": f"(?:(?<=[{WORD}])(?=[{WORD}])|(?<![{WORD}])(?![{WORD}]))",
}


def to_postgres(pattern: str) -> str:
    def rewrite(token: Token) -> str:
        if token.kind == "escape":
            return _PG_ESCAPES.get(token.text[1], token.text)
        if token.kind == "class":
            negated, items = class_items(token.text)
            return (
                "[" + "^" * negated + "".join(_pg_class_item(item, pattern) for item in items) + "]"
            )
        if token.text == ".":
            return "[^\\n]"
        return token.text

    return translate(pattern, rewrite)


def _pg_class_item(item: str, pattern: str) -> str:
    if len(item) == 2 and item[1] in "DWS":
        raise UnsupportedConstruct("E501", f"`{item}` inside [...] in /{pattern}/", "postgres")
    return _CLASS_SETS.get(item[1], item) if len(item) == 2 else item


# ---- Snowflake POSIX ERE -----------------------------------------------------------------


def to_snowflake(pattern: str) -> str:
    def rewrite(token: Token) -> str:
        if token.kind == "group":
            return "("
        if token.kind == "lazy":
            return ""
        if token.kind == "escape":
            char = token.text[1]
            if char in _CONTROL:
                return _CONTROL[char]
            if char.lower() in _ERE_SETS:
                return "[" + "^" * char.isupper() + _ERE_SETS[char.lower()] + "]"
            return token.text if char.isalnum() or char in _ERE_SPECIAL else char
        if token.kind == "class":
            negated, items = class_items(token.text)
            return (
                "["
                + "^" * negated
                + "".join(_snowflake_class_item(item, pattern) for item in items)
                + "]"
            )
        return token.text

    return translate(pattern, rewrite)


def _snowflake_class_item(item: str, pattern: str) -> str:
    if len(item) == 1:
        return item
    if item[1] in _CONTROL:
        return _CONTROL[item[1]]
    if item[1] in _ERE_SETS:
        return _ERE_SETS[item[1]]
    if item[1].isalnum():
        hint = "spell the class out inside [...], e.g. `0-9` for `\\d`"
    elif item[1] in "]\\^-[":
        hint = "POSIX classes read a backslash literally: put `]` first and `-` last, unescaped"
    else:
        return item[1]
    raise UnsupportedConstruct(
        "E501", f"`{item}` inside [...] in /{pattern}/", "snowflake", hint=hint
    )


# ---- Spark: java.util.regex ----------------------------------------------------------------
# Java 17 with no flags: `.` also stops at \r, \u0085, \u2028 and \u2029, so it becomes
# `[^\n]`; `$` also matches before a final line terminator, so it becomes `\z`; `\s` adds
# \x0B, so it is spelled out; `\b \B` count Unicode letters and digits as word characters,
# so they become RE2's ASCII lookarounds; `\d \w` are ASCII, as in RE2, and spelled out
# as for Postgres (inside `[...]` they are left to Java). Inside `[...]` a bare `[`
# opens a nested class (a union) and `&&` intersects, so `[ ] &` are escaped.

_JAVA_CLASS_ESCAPES = {"s": SPACE, "S": f"[^{SPACE}]"}  # [^...] nested in [...]: a union


def to_java(pattern: str) -> str:
    def rewrite(token: Token) -> str:
        if token.kind == "escape":
            return _PG_ESCAPES.get(token.text[1], token.text)
        if token.kind == "class":
            negated, items = class_items(token.text)
            if negated and "\\S" in items:
                # A nested class is negated with the rest on Java 9+ only (JDK-6609854).
                raise UnsupportedConstruct(
                    "E501",
                    f"`\\S` inside [^...] in /{pattern}/",
                    "spark",
                    hint="write the class without `\\S`, e.g. `[^...]` and `\\s` separately",
                )
            return "[" + "^" * negated + "".join(_java_class_item(item) for item in items) + "]"
        if token.text == ".":
            return "[^\\n]"
        if token.text == "$":
            return "\\z"
        return token.text

    return translate(pattern, rewrite)


def _java_class_item(item: str) -> str:
    if len(item) == 2:
        return _JAVA_CLASS_ESCAPES.get(item[1], item)
    return "\\" + item if item in "[]&" else item
