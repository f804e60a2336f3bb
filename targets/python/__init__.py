"""The Python target: a model's evaluator as generated Python source, compiled once."""

from .evaluator import PythonEvaluator

__all__ = ["PythonEvaluator"]
