"""How well scores separate converting leads from the rest: pure functions over arrays.

Every function takes scores (or predictions) and 0/1 outcomes in the same order. They
use numpy only, so the numbers in a report can be checked by hand on small inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Decile:
    """One tenth of the leads, ranked by score; `rank` 1 holds the highest scores."""

    rank: int
    count: int
    positives: int
    min_score: float
    max_score: float
    conversion: float
    lift: float  # conversion / overall conversion
    cumulative_gain: float  # share of all positives in this decile and the ones above


@dataclass(frozen=True)
class GroupRate:
    """Conversion of the leads sharing one label (a tier band, say)."""

    label: str
    count: int
    positives: int
    conversion: float | None  # None for an empty group
    lift: float | None


@dataclass(frozen=True)
class Classification:
    """A yes/no prediction (a flag) against the outcome."""

    predicted: int  # leads predicted positive
    true_positives: int
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class FireStats:
    """How often a rule fires and how leads convert when it does and when it doesn't."""

    fired: int
    fire_rate: float
    conversion_fired: float | None
    conversion_not_fired: float | None
    lift: float | None  # conversion when fired / overall conversion


@dataclass(frozen=True)
class ThresholdChoice:
    """A candidate threshold and how the prediction it gives performs."""

    value: float
    rate: float  # share of leads predicted positive
    classification: Classification


def _outcomes(labels: ArrayLike) -> NDArray[np.bool_]:
    return np.asarray(labels, dtype=bool)


def _rate(positives: int, count: int) -> float | None:
    return positives / count if count else None


def average_ranks(values: ArrayLike) -> NDArray[np.float64]:
    """1-based ranks, ties sharing the average of the ranks they span."""
    _, inverse, counts = np.unique(
        np.asarray(values, dtype=float), return_inverse=True, return_counts=True
    )
    last = np.cumsum(counts)
    return (last - (counts - 1) / 2)[inverse]


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Probability that a random converter outscores a random non-converter (ties count
    half): the Mann-Whitney U statistic over average ranks."""
    outcome = _outcomes(labels)
    positives = int(outcome.sum())
    negatives = len(outcome) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("ROC AUC needs both converting and non-converting leads")
    ranks = average_ranks(scores)
    rank_sum = float(ranks[outcome].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def deciles(scores: ArrayLike, labels: ArrayLike, buckets: int = 10) -> list[Decile]:
    """Leads ranked by score (highest first, ties in input order) cut into equal-sized buckets;
    with fewer leads than buckets, only the non-empty ones are returned."""
    data = np.asarray(scores, dtype=float)
    outcome = _outcomes(labels)
    total_positives = int(outcome.sum())
    base = total_positives / len(data) if len(data) else 0.0
    order = np.argsort(-data, kind="mergesort")
    result: list[Decile] = []
    captured = 0
    for rank, part in enumerate((p for p in np.array_split(order, buckets) if len(p)), start=1):
        positives = int(outcome[part].sum())
        captured += positives
        conversion = positives / len(part)
        result.append(
            Decile(
                rank=rank,
                count=len(part),
                positives=positives,
                min_score=float(data[part].min()),
                max_score=float(data[part].max()),
                conversion=conversion,
                lift=conversion / base if base else 0.0,
                cumulative_gain=captured / total_positives if total_positives else 0.0,
            )
        )
    return result


def conversion_by_group(
    groups: Sequence[str | None], labels: ArrayLike, order: Sequence[str]
) -> list[GroupRate]:
    """Conversion per label in `order` (then any other label met, then missing as "-")."""
    outcome = _outcomes(labels)
    base = _rate(int(outcome.sum()), len(outcome))
    seen = [*order, *sorted({g for g in groups if g is not None and g not in order})]
    if any(g is None for g in groups):
        seen.append(None)
    result = []
    for label in seen:
        members = np.array([g == label for g in groups], dtype=bool)
        count, positives = int(members.sum()), int(outcome[members].sum())
        conversion = _rate(positives, count)
        lift = conversion / base if conversion is not None and base else None
        result.append(
            GroupRate("-" if label is None else label, count, positives, conversion, lift)
        )
    return result


def classification(predicted: ArrayLike, labels: ArrayLike) -> Classification:
    """Precision, recall and F1 of a yes/no prediction; 0 where undefined."""
    guess, outcome = np.asarray(predicted, dtype=bool), _outcomes(labels)
    true_positives = int((guess & outcome).sum())
    flagged, positives = int(guess.sum()), int(outcome.sum())
    precision = true_positives / flagged if flagged else 0.0
    recall = true_positives / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Classification(flagged, true_positives, precision, recall, f1)


def fire_stats(fired: ArrayLike, labels: ArrayLike) -> FireStats:
    """A rule's fire rate and the conversion of leads it fired for versus the rest."""
    hit, outcome = np.asarray(fired, dtype=bool), _outcomes(labels)
    count = int(hit.sum())
    when_fired = _rate(int(outcome[hit].sum()), count)
    base = _rate(int(outcome.sum()), len(outcome))
    return FireStats(
        fired=count,
        fire_rate=count / len(hit) if len(hit) else 0.0,
        conversion_fired=when_fired,
        conversion_not_fired=_rate(int(outcome[~hit].sum()), len(hit) - count),
        lift=when_fired / base if when_fired is not None and base else None,
    )


Predict = Callable[[float], NDArray[np.bool_]]


def _choices(
    candidates: Sequence[float], predict: Predict, labels: ArrayLike
) -> list[ThresholdChoice]:
    outcome = _outcomes(labels)
    choices = []
    for value in candidates:
        guess = predict(value)
        choices.append(
            ThresholdChoice(
                float(value),
                float(guess.mean()) if len(guess) else 0.0,
                classification(guess, outcome),
            )
        )
    return choices


def best_f1_threshold(
    candidates: Sequence[float], predict: Predict, labels: ArrayLike
) -> ThresholdChoice | None:
    """The candidate whose prediction has the highest F1 (the higher value on a tie)."""
    choices = _choices(sorted(set(candidates), reverse=True), predict, labels)
    return max(choices, key=lambda c: c.classification.f1, default=None)


def volume_threshold(
    candidates: Sequence[float], predict: Predict, labels: ArrayLike, target_rate: float
) -> ThresholdChoice | None:
    """The candidate flagging the share of leads closest to `target_rate` (higher value on a tie)."""
    choices = _choices(sorted(set(candidates), reverse=True), predict, labels)
    return min(choices, key=lambda c: abs(c.rate - target_rate), default=None)


def candidate_thresholds(scores: ArrayLike, limit: int = 200) -> list[float]:
    """Distinct score values, thinned to at most `limit` quantiles for large populations."""
    distinct = np.unique(np.asarray(scores, dtype=float))
    if len(distinct) > limit:
        distinct = np.unique(np.quantile(distinct, np.linspace(0, 1, limit), method="nearest"))
    return [float(v) for v in distinct]


@dataclass(frozen=True)
class Histogram:
    """Leads per score bin, split by outcome; bin i is [edges[i], edges[i + 1]), the last closed."""

    edges: tuple[float, ...]
    positives: tuple[int, ...]
    negatives: tuple[int, ...]


def histogram(scores: ArrayLike, labels: ArrayLike, bins: int = 20) -> Histogram:
    data, outcome = np.asarray(scores, dtype=float), _outcomes(labels)
    low, high = (float(data.min()), float(data.max())) if len(data) else (0.0, 1.0)
    edges = np.linspace(low, high if high > low else low + 1, bins + 1)
    positives, _ = np.histogram(data[outcome], edges)
    negatives, _ = np.histogram(data[~outcome], edges)
    return Histogram(
        tuple(float(e) for e in edges),
        tuple(int(c) for c in positives),
        tuple(int(c) for c in negatives),
    )
