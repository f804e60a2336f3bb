"""Where a model's source data lives: table and column names, from `scorelang.toml`.

Every name ends up as a sqlglot identifier (quoted unless a plain name), so a name cannot
inject SQL; names that could not be a portable identifier at all are rejected here, with the
offending key.

    [sources]
    schema = "raw"                 # optional
    leads_table = "crm_leads"
    events_table = "web_events"
    event_lead = "lead_id"
    event_type = "event_type"
    event_time = "occurred_at"
    event_time_zoned = true        # optional: the event-time column's type (see below)
    snowflake_exact_case = false   # optional: true for Snowflake tables created with quoted names

    allow_missing_columns = ["job_title"]  # optional: nullable fields read as all-missing
    strict = false                 # optional: true makes any dropped input row an error
    encoding = "utf-8"             # optional: CSV encoding (utf-8, utf-16, latin-1)
    delimiter = ","                # optional: CSV delimiter

    [sources.columns]              # lead field or event property -> column
    employees = "employee_count"
    id = "Contact ID"              # any header text: spaces, punctuation, non-ASCII

Column names are header text, so any text without control characters is accepted (a quoted
identifier in the SQL, quotes doubled); table and schema names must be portable identifiers.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

from .compiler.suggest import did_you_mean

CONFIG_FILE = "scorelang.toml"
ENCODINGS = ("utf-8", "utf-16", "latin-1")  # what DuckDB's CSV reader decodes natively
MAX_NAME_LENGTH = 128
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
# A schema may be qualified (`project.dataset` in BigQuery, `db.schema` in Snowflake);
# BigQuery project ids may contain hyphens.
_SCHEMA_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_$-]*")


class ConfigError(ValueError):
    """A configuration problem, worded for the person editing scorelang.toml."""


def suggestion(name: str, known: Iterable[str]) -> str:
    """`; did you mean `x`?` for the closest known name, or nothing."""
    hint = did_you_mean(name, known)
    return f"; {hint}" if hint else ""


def unknown_keys(given: Iterable[str], known: Iterable[str], where: str) -> str | None:
    """A message for the keys of `given` not in `known`, each with a suggestion."""
    known = sorted(known)
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    named = ", ".join(f"{key!r}{suggestion(key, known)}" for key in unknown)
    return f"unknown key(s) in {where}: {named} (expected {', '.join(known)})"


def check_column_name(name: object, what: str) -> str:
    """`name` if it can be a file header: any text without control characters (it is always
    a quoted identifier in SQL)."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > MAX_NAME_LENGTH
        or any(unicodedata.category(ch) == "Cc" for ch in name)
    ):
        raise ConfigError(
            f"{what} = {name!r} is not a usable column name: give the header text, "
            f"not blank, without control characters, at most {MAX_NAME_LENGTH} characters"
        )
    return name


def check_identifier(name: object, what: str, pattern: re.Pattern[str] = _IDENTIFIER) -> str:
    """`name` if it is usable as an identifier in every target, else a ConfigError."""
    if not isinstance(name, str) or not pattern.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise ConfigError(
            f"{what} = {name!r} is not a valid identifier: use letters, digits and `_`, "
            f"starting with a letter or `_`, at most {MAX_NAME_LENGTH} characters"
        )
    return name


def schema_parts(schema: object, what: str = "schema") -> tuple[str, ...]:
    """A schema name, possibly qualified (`project.dataset`), as checked parts."""
    if not isinstance(schema, str):
        raise ConfigError(f"{what} = {schema!r} is not a name")
    return tuple(check_identifier(part, what, _SCHEMA_PART) for part in schema.split("."))


@dataclass(frozen=True)
class SourceMapping:
    """Table and column names of the source data (defaults: the documented conventions)."""

    leads_table: str = "leads"
    events_table: str = "events"
    schema: str | None = None
    event_lead: str = "lead_id"
    event_type: str = "event_type"
    event_time: str = "occurred_at"
    columns: Mapping[str, str] = field(default_factory=dict)
    # The event-time column's type: True for a timestamp with time zone, False without one
    # (UTC), None unknown. Known, a view for "now" bounds its windows by instants of that type
    # instead of computing every event's age; `apply` reads it from the database.
    event_time_zoned: bool | None = None
    # Snowflake resolves unquoted names in upper case, as users' own DDL creates them: valid
    # names are emitted unquoted. True quotes every name, for tables created with quoted names.
    snowflake_exact_case: bool = False
    # Nullable fields and properties whose absent column reads as all-missing: names, or
    # True for every nullable one. Without it an absent column is an error.
    allow_missing_columns: bool | tuple[str, ...] = ()
    strict: bool = False  # any dropped input row (unknown lead, undeclared type) is an error
    encoding: str = "utf-8"  # of CSV files
    delimiter: str = ","  # of CSV files
    # Where these names came from (a config file), quoted by errors about them; not a key.
    origin: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("leads_table", "events_table"):
            check_identifier(getattr(self, name), name)
        for name in ("event_lead", "event_type", "event_time"):
            check_column_name(getattr(self, name), name)
        if self.schema is not None:
            schema_parts(self.schema)
        if self.event_time_zoned is not None and not isinstance(self.event_time_zoned, bool):
            raise ConfigError(
                f"event_time_zoned = {self.event_time_zoned!r} is not a boolean: use true "
                "(timestamp with time zone) or false (timestamp without time zone, in UTC)"
            )
        if not isinstance(self.snowflake_exact_case, bool):
            raise ConfigError(
                f"snowflake_exact_case = {self.snowflake_exact_case!r} is not a boolean: use "
                "true (every name quoted, case kept) or false (valid names unquoted)"
            )
        if not isinstance(self.columns, Mapping):
            raise ConfigError('columns must be a table of `name = "column"` pairs')
        for source, column in self.columns.items():
            check_identifier(source, "a key of columns")
            check_column_name(column, f"columns.{source}")
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        allowed = self.allow_missing_columns
        if isinstance(allowed, list):
            allowed = tuple(allowed)
            object.__setattr__(self, "allow_missing_columns", allowed)
        if not isinstance(allowed, bool) and not (
            isinstance(allowed, tuple) and all(isinstance(name, str) for name in allowed)
        ):
            raise ConfigError(
                f"allow_missing_columns = {allowed!r}: give true (every nullable field) or a "
                'list of field and property names, e.g. ["job_title"]'
            )
        for name in ("strict",):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} = {getattr(self, name)!r} is not a boolean")
        if self.encoding.lower().replace("_", "-") not in ENCODINGS:
            raise ConfigError(
                f"encoding = {self.encoding!r} is not supported: use one of {', '.join(ENCODINGS)}"
            )
        if (
            not isinstance(self.delimiter, str)
            or len(self.delimiter) != 1
            or self.delimiter in '"\n\r'
        ):
            raise ConfigError(f'delimiter = {self.delimiter!r}: give one character, e.g. ";"')

    @property
    def schema_parts(self) -> tuple[str, ...]:
        return schema_parts(self.schema) if self.schema else ()

    def allows_missing(self, name: str) -> bool:
        """Whether an absent column for nullable `name` reads as all-missing."""
        allowed = self.allow_missing_columns
        return allowed if isinstance(allowed, bool) else name in allowed

    def column(self, name: str) -> str:
        """The column holding a lead field or event property."""
        return self.columns.get(name, name)


DEFAULT_SOURCES = SourceMapping()


def with_source_schema(mapping: SourceMapping, schema: str | None) -> SourceMapping:
    """The mapping with its schema overridden (the CLI's --source-schema), when one is given."""
    return mapping if schema is None else dataclasses.replace(mapping, schema=schema)


@dataclass(frozen=True)
class Config:
    sources: SourceMapping = field(default_factory=SourceMapping)


def load_config(path: Path | None = None) -> Config:
    """Read `path` (or ./scorelang.toml when it exists); defaults when there is none."""
    if path is None:
        path = Path(CONFIG_FILE)
        if not path.is_file():
            return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    sections = ("lint", "sources")  # [lint] belongs to `scorelang lint`
    unknown = sorted(set(data) - set(sections))
    if unknown:
        named = ", ".join(f"[{name}]{suggestion(name, sections)}" for name in unknown)
        raise ConfigError(f"{path}: unknown section(s) {named}; expected [sources] or [lint]")
    sources = dict(data.get("sources", {}))
    known = {f.name for f in fields(SourceMapping)} - {"origin"}
    problem = unknown_keys(sources, known, "[sources]")
    if problem:
        raise ConfigError(f"{path}: {problem}")
    try:
        return Config(SourceMapping(**sources, origin=str(path)))
    except ConfigError as error:
        raise ConfigError(f"{path}: [sources] {error}") from None
