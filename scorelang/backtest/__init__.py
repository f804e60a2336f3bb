"""Measuring a model against real outcomes.

`scoring` scores historical leads at their scoring time (no leakage), `metrics` holds the
pure measures, `run` assembles a backtest, `report` renders it as HTML with `charts`,
`conditions` re-evaluates flag conditions for threshold search, and `suggest` fits points.
"""
