"""`scorelang lsp`: a Language Server Protocol server for `.score` files (docs/editors.md).

It runs the compiler's own stages on every edit (parse, check, lint, format, tests); what the
editor needs beyond them (positions of every use of a name) is recorded by the compiler's binder (`compiler.binder`).
"""
