"""A dbt project (or package) from scorelang models: one dbt model per scorelang view."""

from .project import ADAPTERS, MATERIALIZATIONS, NO_INCREMENTAL, write_project
from .unit_tests import Skipped

__all__ = ["ADAPTERS", "MATERIALIZATIONS", "NO_INCREMENTAL", "Skipped", "write_project"]
