"""The SQL target: a model's single-scan plan as sqlglot trees, rendered per dialect."""

from .builder import View, build_views, select_scores
from .ddl import render_ddl
from .dialects import DIALECTS
from .errors import UnsupportedConstruct

__all__ = ["DIALECTS", "UnsupportedConstruct", "View", "build_views", "render_ddl", "select_scores"]
