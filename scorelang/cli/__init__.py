"""The `scorelang` command: argument parsing only; every command calls the public API.

Each command lives in its own module and registers itself on `app` when imported.
"""

from .app import app

__all__ = ["app"]
