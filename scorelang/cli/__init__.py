"""The `scorelang` command: argument parsing only; every command calls the public API.

Each command lives in its own module and registers itself on `app` when imported.
"""

from . import (  # noqa: F401  (each module registers its command)
    apply,
    backtest,
    check,
    compile,
    dbt,
    diff,
    explain,
    fmt,
    history,
    lint,
    lsp,
    score,
    suggest,
    test,
)
from .app import app

__all__ = ["app"]
