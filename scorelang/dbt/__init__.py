"""A dbt project (or package) from scorelang models: one dbt model per scorelang view."""

from .project import ADAPTERS, MATERIALIZATIONS, write_project

__all__ = ["ADAPTERS", "MATERIALIZATIONS", "write_project"]
