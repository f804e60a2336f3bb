"""scorelang: a declarative lead-scoring language compiled to Python and warehouse SQL."""

__version__ = "0.1.0"
