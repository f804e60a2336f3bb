"""The structure of a CSV file before its values are read: encoding, delimiter, header.

Left to DuckDB, a duplicate header becomes `id` and `id_1`, a `;`-separated file reads as
one column and an empty or non-UTF-8 file is a sniffer error; each is named here as what
it is, with the `[sources]` option (`encoding`, `delimiter`) that reads it.
"""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

import duckdb
from sqlglot import exp

from .config import SourceMapping

HEAD_BYTES = 1 << 16  # enough for any header row
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_LINE = re.compile(r"CSV Error on Line: (\d+)")


class FileStructureError(ValueError):
    """A CSV file whose layout is not what the configuration says; the message says why."""


def check_header(path: Path, mapping: SourceMapping) -> list[str]:
    """The header's column names, or a FileStructureError: empty file, undecodable header,
    duplicate names, or a single column that another delimiter would split."""
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    if not head.strip():
        raise FileStructureError(f"{path}: cannot be read: the file is empty (no header row)")
    encoding = mapping.encoding.lower().replace("_", "-")
    if encoding != "utf-16":  # ASCII-compatible: the header ends at the first newline byte
        head = head.split(b"\n", 1)[0]
    try:
        text = codecs.getincrementaldecoder(
            "utf-8-sig" if encoding == "utf-8" else encoding
        )().decode(head, final=False)
    except UnicodeError as error:
        raise FileStructureError(not_encoded(path, mapping, f"header: {error}")) from None
    line = text.splitlines()[0] if text.strip() else ""
    names = next(csv.reader([line], delimiter=mapping.delimiter), [])
    repeated = {name: names.count(name) for name in names if names.count(name) > 1}
    if repeated:
        listed = ", ".join(f"{name!r} ({count} times)" for name, count in repeated.items())
        raise FileStructureError(
            f"{path}: duplicate column names in the header: {listed}; each column needs its "
            "own name"
        )
    seen = [d for d in DELIMITERS if d != mapping.delimiter and d in line]
    if len(names) == 1 and seen:
        raise FileStructureError(
            f"{path}: the header is a single column {names[0]!r}: the file looks "
            f"{DELIMITERS[seen[0]]}-separated ({seen[0]!r}), not "
            f"{DELIMITERS.get(mapping.delimiter, repr(mapping.delimiter))}-separated; set "
            f"delimiter = {seen[0]!r} under [sources] in scorelang.toml"
        )
    return names


def not_encoded(path: Path, mapping: SourceMapping, where: str) -> str:
    others = [e for e in ("utf-8", "latin-1", "utf-16") if e != mapping.encoding.lower()]
    return (
        f"{path}: is not {mapping.encoding.upper()}-encoded text ({where}); set encoding = "
        f"{others[0]!r} (or {others[1]!r}) under [sources] in scorelang.toml"
    )


def csv_source(path: Path, mapping: SourceMapping) -> exp.Expression:
    """DuckDB's `read_csv` of the file as text columns, RFC 4180 with the configured
    delimiter and encoding (sniffing would take a stray ' or ; in the data for syntax).
    Reading errors surface when it runs: see `decoding_error`; check the header first."""
    options = {
        "header": True,
        "all_varchar": True,
        "sep": mapping.delimiter,
        "quote": '"',
        "escape": '"',
        "encoding": mapping.encoding,
    }
    return exp.func(
        "read_csv",
        exp.Literal.string(str(path)),
        *(
            exp.EQ(this=exp.var(option), expression=exp.convert(value))
            for option, value in options.items()
        ),
    )


def decoding_error(
    path: Path, mapping: SourceMapping, error: duckdb.Error
) -> FileStructureError | None:
    """A readable error for DuckDB's report of bytes that are not in the encoding."""
    text = str(error)
    if "Invalid unicode" not in text and "not utf-8 encoded" not in text:
        return None
    line = _LINE.search(text)
    return FileStructureError(not_encoded(path, mapping, f"line {line[1]}" if line else "a row"))
