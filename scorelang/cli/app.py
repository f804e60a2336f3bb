"""The Typer application every command module registers on."""

import typer

app = typer.Typer(
    name="scorelang",
    help="Lead scoring as code: check, test, score, compile and explain .score models.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
