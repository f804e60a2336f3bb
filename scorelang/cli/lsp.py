"""`scorelang lsp`: the language server for editors, over stdin and stdout (docs/editors.md)."""

from __future__ import annotations

from .app import app


@app.command()
def lsp() -> None:
    """Run the language server on stdio: diagnostics, hover, completion, navigation, rename,
    outline, formatting, quick fixes and test results in the editor (docs/editors.md)."""
    from ..lsp.server import main

    main()
