"""scorelang: a declarative lead-scoring language compiled to Python and warehouse SQL.

import scorelang
model = scorelang.load("examples/b2b_saas/model.score")
result = model.score({"id": "l1", ...}, events, as_of=...)
result.scores["total"], result.top_reasons("engagement")
"""

from .compiler.diagnostics import CompileError

__version__ = "0.1.0"
__all__ = ["CompileError", "ScoringModel", "load", "loads"]


def __getattr__(name: str):
    # The API imports the whole compiler; keep `import scorelang` (and the CLI's start) light.
    if name in ("load", "loads", "ScoringModel"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
