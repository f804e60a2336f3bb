"""Every aggregate of a batch of leads at once, over event columns (NumPy), instead of one
pass of Python per lead; the generated `finish_batch` (or `finish`, lead by lead) then
scores the leads from them.

Each aggregate is the per-lead evaluator's, bit for bit: sums add in event order (bincount
adds sequentially, as `agg += value` does), decay weights are the same
Python float operations, and `where` conditions are the generated ones, evaluated once per
distinct tuple of the property values they read. A batch the columns cannot represent
exactly (times that are not aware datetimes, unhashable values, non-numeric sums, a `where`
reading a lead field) gives None, and the caller scores lead by lead.

Events come as `EventColumns`: fetched as columns from the loaded files (the python engine,
`scorelang.data.read_columns`, no record per event), or built from records
(`EventColumns.from_records`); lead keys, types and properties as codes into their distinct
values, so that lookups and `where` conditions run once per distinct value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np

from ...compiler import ir
from ...records import EVENT_LEAD, EVENT_TIME, EVENT_TYPE, optional_utc
from .codegen import micros
from .runtime import MICROSECOND, NO_AGE, sequence

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXACT = 2**53  # integers below it are exact doubles (ages: about 285 years)
Where = Mapping[tuple[int, int, str], tuple[Callable[..., Any], tuple[str, ...]]]


class Unsupported(Exception):
    """The batch holds values the columns cannot represent exactly."""


@dataclass(frozen=True)
class Factor:
    """A column as `codes` into its distinct `values`: lookups run once per distinct value."""

    codes: np.ndarray
    values: list[Any]

    @classmethod
    def of(cls, column: list[Any]) -> Factor:
        """Codes in order of first appearance; the loops are C's (dict.fromkeys, map)."""
        values = list(dict.fromkeys(column))
        index = {v: i for i, v in enumerate(values)}
        return cls(np.fromiter(map(index.__getitem__, column), np.int64, len(column)), values)

    def mapped(self, lookup: Mapping[Any, int]) -> np.ndarray:
        """Per row, `lookup` of its value (-1 if absent)."""
        table = np.array([lookup.get(v, -1) for v in self.values], np.int64)
        return table[self.codes]

    def decoded(self) -> list[Any]:
        return [self.values[c] for c in self.codes.tolist()]

    def table(self, convert: Callable[[Any], Any], dtype: type) -> np.ndarray:
        """`convert` of each distinct value, as an array indexed by code."""
        return np.array([convert(v) for v in self.values], dtype)


@dataclass(frozen=True)
class EventColumns:
    """Events as columns, in the order the per-lead evaluator sees them (sums add in it):
    lead key, type and the properties the model reads (each as codes into a list of distinct
    values, None among them where missing) and time in microseconds since the epoch."""

    leads: Factor
    types: Factor
    micros: np.ndarray
    properties: dict[str, Factor]

    @classmethod
    def from_records(cls, events: Sequence[Mapping[str, Any]], props: list[str]) -> EventColumns:
        """Raises KeyError or TypeError for a record the per-lead evaluator must read (no
        type or time, a time that is not an aware datetime)."""
        times = map(itemgetter(EVENT_TIME), events)
        return cls(
            Factor.of(list(map(itemgetter(EVENT_LEAD), events))),
            Factor.of(list(map(itemgetter(EVENT_TYPE), events))),
            np.fromiter(((t - _EPOCH) // MICROSECOND for t in times), np.int64, len(events)),
            {p: Factor.of(list(map(methodcaller("get", p), events))) for p in props},
        )

    def records(self) -> list[dict[str, Any]]:
        """The events as records again, for the per-lead evaluator."""
        names = list(self.properties)
        return [
            {
                EVENT_LEAD: lead,
                EVENT_TYPE: kind,
                EVENT_TIME: _EPOCH + micros * MICROSECOND,
                **{n: v for n, v in zip(names, values, strict=True) if v is not None},
            }
            for lead, kind, micros, *values in zip(
                self.leads.decoded(),
                self.types.decoded(),
                self.micros.tolist(),
                *(factor.decoded() for factor in self.properties.values()),
                strict=True,
            )
        ]


def batch_aggregates(
    model: ir.Model,
    where: Where | None,
    keys: Sequence[Hashable],
    events: EventColumns,
    as_of: datetime,
) -> list[list] | None:
    """Per aggregate (in `model.aggregates` order), its values per distinct lead key in
    `keys` (first use first): an array for numbers (counts as int64, sums as float64), a list
    for times and sequences; None when the batch must be scored lead by lead."""
    if where is None:
        return None
    try:
        return _Batch(model, where, keys, events, as_of).aggregates()
    except (Unsupported, TypeError, ValueError, OverflowError):
        return None


class _Batch:
    def __init__(
        self,
        model: ir.Model,
        where: Where,
        keys: Sequence[Hashable],
        events: EventColumns,
        as_of: datetime,
    ) -> None:
        self.model, self.where, self.as_of = model, where, as_of
        self.properties = events.properties
        self.slot_of: dict[Hashable, int] = {}
        for key in keys:
            self.slot_of.setdefault(key, len(self.slot_of))
        self.leads = len(self.slot_of)
        self.types = {t.name: i for i, t in enumerate(model.event_types)}
        self.declared = {t.name: {p.name: p.type for p in t.properties} for t in model.event_types}
        self.slots = events.leads.mapped(self.slot_of)
        self.kinds = events.types.mapped(self.types)
        self.ages = (as_of - _EPOCH) // MICROSECOND - events.micros
        self.valid = (self.slots >= 0) & (self.kinds >= 0) & (self.ages >= 0)

    def aggregates(self) -> list[np.ndarray | list]:
        return [self._aggregate(n, a) for n, a in enumerate(self.model.aggregates)]

    # ---- event selection -------------------------------------------------------------

    def _selected(self, n: int, side: int, event_filter: ir.EventFilter) -> np.ndarray:
        """Indices, in event order, of the events that pass the filter."""
        # One bool per type code, the last for -1 (no type of the model): a lookup per
        # event, cheaper than np.isin's sort of a million codes.
        wanted = np.zeros(len(self.types) + 1, np.bool_)
        wanted[[self.types[t] for t in event_filter.types if t in self.types]] = True
        mask = self.valid & wanted[self.kinds]
        if event_filter.window is not None:
            low, high = event_filter.window.min_age, event_filter.window.max_age
            if low > 0:
                mask &= self.ages >= micros(low)
            if high != float("inf"):
                mask &= self.ages < micros(high)
        if event_filter.where is not None:
            for t in event_filter.types:
                if t in self.types:
                    mask &= self._where_mask(n, side, t, mask)
        return np.flatnonzero(mask)

    def _where_mask(self, n: int, side: int, event_type: str, mask: np.ndarray) -> np.ndarray:
        """False for events of `event_type` failing the condition; True for every other. The
        condition runs once per distinct tuple of the property values it reads."""
        condition, props = self.where[(n, side, event_type)]
        of_type = np.flatnonzero(mask & (self.kinds == self.types[event_type]))
        factors = [self.properties[p] for p in props]
        if math.prod(len(f.values) for f in factors) >= _EXACT:
            raise Unsupported("too many combinations of property values")
        combined = np.zeros(len(of_type), np.int64)  # one code per tuple of codes
        for factor in factors:
            combined = combined * len(factor.values) + factor.codes[of_type]
        distinct, inverse = np.unique(combined, return_inverse=True)
        passed = []
        for code in distinct.tolist():
            values = []
            for factor in reversed(factors):
                code, own = divmod(code, len(factor.values))
                values.append(factor.values[own])
            passed.append(bool(condition(self.as_of, *reversed(values))))
        result = np.ones(len(mask), np.bool_)
        result[of_type] = np.array(passed, np.bool_)[inverse]
        return result

    def _values(self, picked: np.ndarray, prop: str) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        """The picked events whose type declares `prop` with a value, and those values (the
        per-lead evaluator reads an undeclared property as missing) as codes into the list of
        distinct values (timestamps in UTC, so that equal instants share a code)."""
        factor, names = self.properties[prop], list(self.types)
        declared = np.array([prop in self.declared[name] for name in names], np.bool_)
        codes = factor.codes[picked]
        kept = declared[self.kinds[picked]] & factor.table(lambda v: v is not None, np.bool_)[codes]
        # One type per property name (E310): a timestamp in one event type is one in all.
        if not any(self.declared[t].get(prop) is ir.Type.TIMESTAMP for t in names):
            return picked[kept], codes[kept], factor.values
        normal = Factor.of([optional_utc(v) for v in factor.values])
        return picked[kept], normal.codes[codes[kept]], normal.values

    # ---- aggregates ------------------------------------------------------------------

    def _aggregate(self, n: int, aggregate: ir.AggregateNode) -> np.ndarray | list:
        if isinstance(aggregate, ir.Sequence):
            return self._sequence(n, aggregate)
        picked = self._selected(n, 0, aggregate.filter)
        slots, ages = self.slots[picked], self.ages[picked]
        match aggregate:
            case ir.Count():
                return np.bincount(slots, minlength=self.leads)
            case ir.Sum(prop=prop):
                kept, codes, values = self._values(picked, prop)
                numbers = [v if type(v) in (int, float, bool) else None for v in values]
                if any(numbers[c] is None for c in np.unique(codes).tolist()):
                    raise Unsupported(prop)
                table = np.array([0.0 if v is None else v for v in numbers], np.float64)
                return self._sum(self.slots[kept], table[codes])
            case ir.CountDistinct(prop=prop):
                kept, codes, _values = self._values(picked, prop)
                return self._distinct(self.slots[kept], codes)
            case ir.PeriodCount(period=period):
                return self._distinct(slots, ages // micros(period))
            case ir.DecayedSum(half_life=half_life):
                if len(ages) and ages.max() >= _EXACT:  # int / int no longer a float division
                    raise Unsupported("an age beyond 2**53 microseconds")
                exponents = (ages / micros(half_life)).tolist()
                return self._sum(slots, np.array([0.5**x for x in exponents], np.float64))
            case ir.LinearDecaySum(percent=percent, period=period):
                weights = 1.0 - (percent / 100) * (ages // micros(period))
                positive = weights > 0.0
                return self._sum(slots[positive], weights[positive])
            case ir.Last():
                latest = np.full(self.leads, NO_AGE, np.int64)
                np.minimum.at(latest, slots, ages)
                return [None if a == NO_AGE else self._time(a) for a in latest.tolist()]
            case ir.First():
                earliest = np.full(self.leads, -1, np.int64)
                np.maximum.at(earliest, slots, ages)
                return [None if a < 0 else self._time(a) for a in earliest.tolist()]
        raise ValueError(f"no columnar aggregate {type(aggregate).__name__}")

    def _time(self, age: int) -> datetime:
        return self.as_of - age * MICROSECOND

    def _sum(self, slots: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per lead 0.0 + v1 + v2 + ... in event order: bincount adds sequentially."""
        return np.bincount(slots, weights=values, minlength=self.leads)

    def _distinct(self, slots: np.ndarray, values: np.ndarray) -> np.ndarray:
        order = np.lexsort((values, slots))
        slots, values = slots[order], values[order]
        new = np.ones(len(slots), np.bool_)
        new[1:] = (slots[1:] != slots[:-1]) | (values[1:] != values[:-1])
        return np.bincount(slots[new], minlength=self.leads)

    def _sequence(self, n: int, aggregate: ir.Sequence) -> list[bool]:
        """The runtime's `sequence` on each lead that has events on both sides."""
        sides = [self._selected(n, side, f) for side, f in enumerate(ir.event_filters(aggregate))]
        grouped = [self._by_slot(picked) for picked in sides]
        found = [False] * self.leads
        gap = micros(aggregate.gap)
        for slot, first in grouped[0].items():
            second = grouped[1].get(slot)
            if second is not None:
                found[slot] = sequence(first, second, gap)
        return found

    def _by_slot(self, picked: np.ndarray) -> dict[int, list[int]]:
        slots, ages = self.slots[picked], self.ages[picked]
        order = np.argsort(slots, kind="stable")
        slots, ages = slots[order], ages[order]
        starts = np.flatnonzero(np.r_[True, slots[1:] != slots[:-1]]) if len(slots) else []
        bounds = [*np.asarray(starts).tolist(), len(slots)]
        return {int(slots[a]): ages[a:b].tolist() for a, b in pairwise(bounds)}
