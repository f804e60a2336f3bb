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

    [sources.columns]              # lead field or event property -> column
    employees = "employee_count"
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

CONFIG_FILE = "scorelang.toml"
MAX_NAME_LENGTH = 128
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
# A schema may be qualified (`project.dataset` in BigQuery, `db.schema` in Snowflake);
# BigQuery project ids may contain hyphens.
_SCHEMA_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_$-]*")


class ConfigError(ValueError):
    """A configuration problem, worded for the person editing scorelang.toml."""


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

    def __post_init__(self) -> None:
        for name in ("leads_table", "events_table", "event_lead", "event_type", "event_time"):
            check_identifier(getattr(self, name), name)
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
            check_identifier(column, f"columns.{source}")
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    @property
    def schema_parts(self) -> tuple[str, ...]:
        return schema_parts(self.schema) if self.schema else ()

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
    unknown = set(data) - {"sources"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown section(s) {', '.join(sorted(unknown))}; expected [sources]"
        )
    sources = data.get("sources", {})
    known = {f.name for f in fields(SourceMapping)}
    unknown = set(sources) - known
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) in [sources]: {', '.join(sorted(unknown))}; "
            f"expected {', '.join(sorted(known))}"
        )
    try:
        return Config(SourceMapping(**sources))
    except ConfigError as error:
        raise ConfigError(f"{path}: [sources] {error}") from None
