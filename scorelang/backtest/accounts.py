"""A backtest at account level: every account scored at one instant, measured against an
outcome column of the accounts file (an opportunity opened, a deal won): AUC and deciles of
each account score, conversion per account tier band, precision and recall of the account
flags, and the account rules' fire rates.

Accounts are scored by any engine over the leads, events and accounts files, so no event
after the instant counts; the outcome is read from the accounts file as it is, like a lead
outcome from the leads file (any header text; 0/1, true/false, yes/no).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sqlglot import exp

from .. import data
from ..compiler import ir
from ..config import SourceMapping
from ..records import to_utc
from .run import Backtest, analyse
from .scoring import Progress, ScoredLeads, parse_outcome


def read_account_outcomes(
    model: ir.Model, accounts: Path, outcome: str, mapping: SourceMapping
) -> dict[Any, bool]:
    """Each account's outcome by its key (typed as the model declares it)."""
    assert model.account is not None
    key = mapping.entity_column(ir.ACCOUNT, model.account.key)
    key_type = next(f.type for f in model.account.fields if f.name == model.account.key)
    con = duckdb.connect()
    try:
        present = data.read_raw(con, Path(accounts), "_scorelang_backtest_accounts", mapping)
        for column in (key, outcome):
            if column not in present:
                raise data.DataError(
                    f"{accounts}: no column {column!r} (the file has: {', '.join(present)})"
                )
        query = (
            exp.select(data.try_cast(data.col(key), key_type), data.col(outcome))
            .from_(data.table("_scorelang_backtest_accounts"))
            .order_by(exp.column("rowid"))
        )
        rows = data.run(con, query)
    finally:
        con.close()
    parsed = [parse_outcome(value) for _key, value in rows]
    bad = [i for i, value in enumerate(parsed) if value is None]
    if bad:
        shown = ", ".join(f"row {i + 1}: {rows[i][1]!r}" for i in bad[:3])
        raise data.DataError(
            f"{accounts}: column {outcome!r} must be 0/1 or true/false; {len(bad)} values are "
            f"not, e.g. {shown}"
        )
    return {key_value: bool(value) for (key_value, _), value in zip(rows, parsed, strict=True)}


def backtest_accounts(
    model: ir.Model,
    leads: Path,
    events: Path,
    accounts: Path,
    outcome: str,
    as_of: datetime | str,
    *,
    engine: str = "python",
    main_score: str | None = None,
    target_rate: float | None = None,
    progress: Progress | None = None,
    mapping: SourceMapping | None = None,
    database: str | None = None,
) -> Backtest:
    """Score every account of the files at `as_of` (on `engine`; `database`: its server) and
    measure its scores against the accounts file's `outcome` column."""
    from .. import engines

    if model.account is None:
        raise ValueError(f"model {model.name} declares no account: it has no account scores")
    mapping, instant = mapping or SourceMapping(), to_utc(as_of)
    outcomes = read_account_outcomes(model, accounts, outcome, mapping)
    rows = engines.score(
        model,
        engine,
        leads=leads,
        events=events,
        accounts=accounts,
        database=database,
        as_of=instant,
        mapping=mapping,
        entity=ir.ACCOUNT,
    )
    if progress:
        progress(len(rows), len(rows))
    key = model.account.key
    scored = ScoredLeads(
        rows, np.array([outcomes[row[key]] for row in rows], dtype=bool), [instant] * len(rows)
    )
    return analyse(
        model,
        scored,
        outcome=outcome,
        as_of=f"all accounts at {instant.isoformat()}",
        main_score=main_score,
        target_rate=target_rate,
        entity=ir.ACCOUNT,
    )
