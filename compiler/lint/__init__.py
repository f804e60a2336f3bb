"""The linter: advice for pull requests, on top of a model that already checks.

    from scorelang.compiler.lint import lint
    diagnostics = lint(LintContext(module, model, config))

Each rule is a module in `rules/` with stable metadata (`registry.RULES`); codes are SLxxx
and each has a page in docs/rules/.
"""

from __future__ import annotations

from pathlib import Path

from ..diagnostics import Diagnostic
from .config import ConfigError, LintConfig, find_config, load_lint_config
from .context import LintContext
from .registry import BY_CODE, KNOWN, RULES
from .rule import Finding, Rule
from .suppress import is_suppressed, suppressions

__all__ = [
    "BY_CODE",
    "KNOWN",
    "RULES",
    "ConfigError",
    "Finding",
    "LintConfig",
    "LintContext",
    "Rule",
    "enabled_rules",
    "find_config",
    "lint",
    "load_config",
]


def load_config(path: Path | None) -> LintConfig:
    """The `[lint]` table of a scorelang.toml (None: defaults)."""
    return load_lint_config(path, KNOWN)


def enabled_rules(config: LintConfig, with_data: bool) -> list[Rule]:
    return [
        rule
        for rule in RULES
        if (config.enable is None or rule.code in config.enable)
        and rule.code not in config.disable
        and (with_data or not rule.needs_data)
    ]


def lint(ctx: LintContext) -> list[Diagnostic]:
    """Every enabled rule's findings on the context's file, minus suppressed ones, in order."""
    silenced = suppressions(ctx.module)
    found: list[Diagnostic] = []
    for rule in enabled_rules(ctx.config, ctx.sample is not None):
        severity = ctx.config.severity.get(rule.code, rule.severity)
        for finding in rule.check(ctx):
            diagnostic = Diagnostic(
                rule.code, severity, finding.message, finding.span, finding.hint
            )
            if not is_suppressed(diagnostic, silenced):
                found.append(diagnostic)
    return sorted(found, key=_position)


def _position(d: Diagnostic) -> tuple[int, int, str]:
    return (d.span.line, d.span.column, d.code)
