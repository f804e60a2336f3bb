"""One module per lint rule, each exposing `RULE`; compiler.lint.registry lists them."""
