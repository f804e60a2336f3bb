"""Helpers the generated `finish_batch` calls: values of a batch of leads as float64 arrays
with a boolean "missing" mask, built and rounded so that every result is the per-lead
`finish`'s, bit for bit. A batch they cannot hold exactly raises `Unsupported` and is
scored lead by lead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from ...compiler.ir import round_score
from .columnar import Unsupported

_EXACT = 2.0**53  # integers below it are exact doubles
_NUMBERS = (float, int, bool)


def numbers(values: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values (numbers, bools or None) as float64 and the mask of the missing ones; integers
    must be exact in a double, as Python compares and multiplies them exactly."""
    if isinstance(values, np.ndarray):  # an aggregate's counts or sums: never missing
        array = values.astype(np.float64)
        if values.dtype.kind in "iu":
            exact(array)
        return array, np.zeros(len(values), np.bool_)
    if not all(type(v) in _NUMBERS or v is None for v in values):
        raise Unsupported("a value that is not a number")
    if not all(-_EXACT < v < _EXACT for v in values if type(v) is int):
        raise Unsupported("an integer beyond 2**53")
    missing = np.fromiter((v is None for v in values), np.bool_, len(values))
    return np.array([0.0 if v is None else v for v in values], np.float64), missing


def present(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """`numbers` of values the per-lead code reads as never missing."""
    array, missing = numbers(values)
    if missing.any():
        raise Unsupported("a missing value where the model expects one")
    return array


def exact(array: np.ndarray) -> np.ndarray:
    """`array`, if every value is below 2**53 in magnitude, where an integer result of Python
    (exact) and of a double (rounded at and beyond 2**53) still agree."""
    if (
        len(array)
        and not np.abs(array[np.isfinite(array)], dtype=np.float64).max(initial=0.0) < _EXACT
    ):
        raise Unsupported("an integer beyond 2**53")
    return array


def integral(array: np.ndarray) -> np.ndarray:
    """An integer result of Python's as a double: exact (below 2**53) and without the sign
    of a zero (`-0` and `0 * -5` are the int 0, where doubles give -0.0)."""
    return exact(array) + 0.0


def divide(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """`a / b` where b != 0 (missing elsewhere: the caller masks it), 0.0 there."""
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return np.divide(a, b, out=np.zeros(a.shape), where=b != 0)


def per_distinct(function: Callable[..., Any], as_of: datetime, *columns: list) -> list:
    """`function(as_of, *values)` per lead, computed once per distinct tuple of values (the
    strings and timestamps the generated scalar code reads)."""
    keys: Sequence[Any] = columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))
    try:
        answers = dict.fromkeys(keys)
    except TypeError:  # unhashable: the per-lead code reads (or rejects) it
        raise Unsupported("an unhashable value") from None
    try:
        if len(columns) == 1:
            for key in answers:
                answers[key] = function(as_of, key)
        else:
            for key in answers:
                answers[key] = function(as_of, *key)
    except Exception:  # the per-lead code may never evaluate it (`and` short-circuits)
        raise Unsupported("a value the scalar code cannot read") from None
    return list(map(answers.__getitem__, keys))


def conditions(answers: list) -> np.ndarray:
    if not all(type(a) is bool for a in answers):
        raise Unsupported("a condition that is not a bool")
    return np.array(answers, np.bool_)


def round_values(values: np.ndarray, digits: int = 2) -> np.ndarray:
    """`round_score` of each value, once per distinct bit pattern (so -0.0 and 0.0 stay
    apart, and each NaN as it is): Decimal is exact, no float formula is risked."""
    bits = np.ascontiguousarray(values, np.float64).view(np.int64)
    distinct, inverse = np.unique(bits, return_inverse=True)
    rounded = [round_score(v, digits) for v in distinct.view(np.float64).tolist()]
    return np.array(rounded, np.float64)[inverse.reshape(-1)]


def minimum(*values: np.ndarray | float) -> np.ndarray:
    """Python's `min`: the first value unless a later one is smaller (NaN and -0.0 as it)."""
    result = values[0]
    for value in values[1:]:
        result = np.where(value < result, value, result)
    return result


def maximum(*values: np.ndarray | float) -> np.ndarray:
    result = values[0]
    for value in values[1:]:
        result = np.where(value > result, value, result)
    return result


def listed(values: Sequence[Any] | np.ndarray) -> list[Any]:
    """Values as the per-lead code holds them: Python ints and floats, not NumPy's."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def with_missing(values: np.ndarray, missing: np.ndarray) -> list[float | None]:
    return [None if m else v for v, m in zip(values.tolist(), missing.tolist(), strict=True)]
