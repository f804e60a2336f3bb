"""Where a model's source data lives: per entity its table (and, for the lead, the events'
column naming it), the events table, and the columns of fields and properties. `scorelang.toml`'s [sources]
(read by scorelang.config) builds one; the SQL target and the engines read it.

It sits below the targets, so they need not import the configuration layer. Every name ends
up as a sqlglot identifier (quoted unless a plain name), so a name cannot inject SQL; names
that could not be a portable identifier at all are rejected here, with the offending key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from .ir import LEAD
from .suggest import did_you_mean

ENCODINGS = ("utf-8", "utf-16", "latin-1")  # what DuckDB's CSV reader decodes natively
MAX_NAME_LENGTH = 128
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
# A schema may be qualified (`project.dataset` in BigQuery, `db.schema` in Snowflake);
# BigQuery project ids may contain hyphens.
_SCHEMA_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_$-]*")


class ConfigError(ValueError):
    """A configuration problem, worded for the person editing scorelang.toml."""


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
    # Entities other than the lead, by name ([sources.entities.NAME]: table, columns); the
    # lead's table and events column are leads_table and event_lead (or
    # [sources.entities.lead], the same), its columns [sources.columns]. An entity not given
    # here reads its default table (`accounts` for the account).
    entities: Mapping[str, EntitySource] = field(default_factory=dict)
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
        entities = _entity_sources(self.entities)
        lead = entities.pop(LEAD, None)
        if lead is not None:
            self._set_lead(lead)
        object.__setattr__(self, "entities", MappingProxyType(entities))
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

    def _set_lead(self, lead: EntitySource) -> None:
        """The lead's source given as [sources.entities.lead]: the same as leads_table and
        event_lead, so it may not contradict them."""
        defaults = {f.name: f.default for f in fields(self)}
        for key, value in (("leads_table", lead.table), ("event_lead", lead.event_key)):
            given = getattr(self, key)
            if given not in (value, defaults[key]):
                raise ConfigError(
                    f"{key} = {given!r} contradicts entities.lead ({value!r}): give it once"
                )
            object.__setattr__(self, key, value)

    def entity(self, name: str) -> EntitySource:
        """Where entity `name`'s rows live (the default table when not configured)."""
        if name == LEAD:
            return EntitySource(self.leads_table, self.event_lead, self.columns)
        return self.entities.get(name) or EntitySource(default_table(name))

    def entity_column(self, entity: str, name: str) -> str:
        """The column holding field `name` of `entity` (for the lead: or an event property)."""
        return self.entity(entity).column(name)

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


def default_table(entity: str) -> str:
    """The table (and file) name an entity's rows have unless configured: `accounts`."""
    return f"{entity}s"


@dataclass(frozen=True)
class EntitySource:
    """Where one entity's rows live: its table, the events' column holding its key (the
    lead's only: an account's events are its leads'), and its fields' columns."""

    table: str
    event_key: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_identifier(self.table, "table")
        if self.event_key is not None:
            check_column_name(self.event_key, "event_key")
        if not isinstance(self.columns, Mapping):
            raise ConfigError('columns must be a table of `field = "column"` pairs')
        for source, column in self.columns.items():
            check_identifier(source, "a key of columns")
            check_column_name(column, f"columns.{source}")
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def column(self, name: str) -> str:
        """The column holding field `name`."""
        return self.columns.get(name, name)


def _entity_sources(given: object) -> dict[str, EntitySource]:
    """`[sources.entities.NAME]` tables (or EntitySource values) by entity name. The lead
    takes `table` and `event_key` (its columns are [sources.columns]); another entity takes
    `table` and `columns` (its events are its leads': no `event_key`)."""
    if not isinstance(given, Mapping):
        raise ConfigError('entities must be tables such as [sources.entities.lead] table = "crm"')
    sources: dict[str, EntitySource] = {}
    for name, source in given.items():
        check_identifier(name, "an entity name")
        if isinstance(source, EntitySource):
            sources[name] = source
            continue
        lead = name == LEAD
        keys = ("table", "event_key") if lead else ("table", "columns")
        example = f'[sources.entities.{name}] table = "crm_{name}s"'
        if not isinstance(source, Mapping):
            raise ConfigError(
                f"entities.{name} takes {' and '.join(map(repr, keys))}, e.g. {example}"
            )
        unknown = [key for key in source if key not in keys]
        if unknown:
            hints = []
            for key in unknown:
                hint = did_you_mean(key, keys)
                if lead and key == "columns":
                    hint = "the lead's columns are mapped under [sources.columns]"
                elif not lead and key == "event_key":
                    hint = f"an {name}'s events are its leads' events, linked by the lead field marked `{name}`"
                hints.append(f"{key!r}" + (f" ({hint})" if hint else ""))
            raise ConfigError(
                f"entities.{name} takes {' and '.join(f'`{k}`' for k in keys)}, not "
                f"{', '.join(hints)}; e.g. {example}"
            )
        if lead:
            if "table" not in source:
                raise ConfigError(f"entities.{name} needs a `table`")
            sources[name] = EntitySource(source["table"], source.get("event_key", f"{name}_id"))
        else:
            sources[name] = EntitySource(
                source.get("table", default_table(name)), None, source.get("columns", {})
            )
    return sources


DEFAULT_SOURCES = SourceMapping()
