"""One data path for every command: each reads ./scorelang.toml (or --config), refuses a
mapping the model lacks, names dropped rows and, with --strict, refuses them.

The data is a CRM-like export of the backtest fixture: other column names (with spaces),
an outcome column of its own, event types spelled as a CRM spells them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from backtest_fixtures import MODEL, write_csv
from typer.testing import CliRunner

from scorelang.cli import app

CRM = {
    "id": "Contact ID",
    "industry": "Industry",
    "title": "Job Title",
    "created_at": "Created (UTC)",
}
CONFIG = (
    '[sources]\nevent_lead = "Contact ID"\nevent_type = "Activity"\nevent_time = "When"\n'
    "[sources.columns]\n" + "".join(f'{k} = "{v}"\n' for k, v in CRM.items())
)
AS_OF = "2026-01-01T00:00:00Z"


def crm_data(folder: Path, event_type: str = "page_view") -> tuple[Path, Path]:
    leads = [
        {"Contact ID": f"c{i:02d}", "Industry": "saas" if i % 2 else "retail",
         "Job Title": "VP" if i % 3 == 0 else "", "Created (UTC)": "2025-01-01T00:00:00Z",
         "Closed Won?": int(i % 2 == 1 and i % 5 != 0)}
        for i in range(40)
    ]  # fmt: skip
    events = [
        {"Contact ID": f"c{i:02d}", "Activity": event_type if i % 4 else "demo_request",
         "When": datetime(2025, 12, 1 + i % 20, tzinfo=UTC), "url": "/pricing"}
        for i in range(40)
        if i % 3
    ]  # fmt: skip
    return (
        write_csv(folder / "leads.csv", leads, list(leads[0])),
        write_csv(folder / "events.csv", events, list(events[0])),
    )


def commands(folder: Path, leads: Path, events: Path) -> dict[str, list[str]]:
    model = folder / "model.score"
    model.write_text(MODEL, encoding="utf-8")
    newer = folder / "new.score"
    newer.write_text(MODEL.replace('"saas": +20', '"saas": +25'), encoding="utf-8")
    files = ["--leads", str(leads), "--events", str(events)]
    outcome = ["--outcome", "Closed Won?", "--as-of", AS_OF]
    return {
        "score": ["score", str(model), *files, "--as-of", AS_OF],
        "explain": ["explain", str(model), "--lead", "c03", *files, "--as-of", AS_OF],
        "diff": ["diff", str(model), str(newer), *files, "--as-of", AS_OF],
        "backtest": ["backtest", str(model), *files, *outcome],
        "suggest": ["suggest", str(model), *files, *outcome],
        "compile": ["compile", str(model), "-t", "duckdb"],
        "apply": ["apply", str(model), "--database", str(folder / "w.duckdb")],
    }


DATA_COMMANDS = ["score", "explain", "diff", "backtest", "suggest"]


@pytest.mark.parametrize("command", [*DATA_COMMANDS, "compile"])
def test_every_command_reads_the_config_in_the_current_directory(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    arguments = commands(tmp_path, *crm_data(tmp_path))[command]
    without = CliRunner().invoke(app, arguments)
    if command != "compile":  # the default names are not in the file
        assert without.exit_code != 0 and "Contact ID" in " ".join(without.output.split())
    (tmp_path / "scorelang.toml").write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    if command == "compile":
        assert '"Contact ID"' in result.output and '"Job Title"' in result.output


@pytest.mark.parametrize("command", [*DATA_COMMANDS, "compile", "apply"])
def test_every_command_takes_config_and_refuses_an_unknown_mapping_key(
    command: str, tmp_path: Path
) -> None:
    arguments = commands(tmp_path, *crm_data(tmp_path))[command]
    config = tmp_path / "elsewhere.toml"
    config.write_text(CONFIG.replace("title =", "titel ="), encoding="utf-8")
    result = CliRunner().invoke(app, [*arguments, "--config", str(config)])
    output = " ".join(result.output.split())
    assert result.exit_code in (1, 2) and "Traceback" not in output
    assert "maps 'titel'" in output and "did you mean `title`?" in output


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_undeclared_types_are_named_and_strict_refuses_them(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scorelang.toml").write_text(CONFIG, encoding="utf-8")
    arguments = commands(tmp_path, *crm_data(tmp_path, event_type="Page View"))[command]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "note: read 40 leads, 6 events (ignored: 20 events of undeclared types: " in output
    assert "'Page View' (20) looks like page_view" in output
    strict = CliRunner().invoke(app, [*arguments, "--strict"])
    output = " ".join(strict.output.replace("│", "").split())
    assert strict.exit_code == (2 if command == "diff" else 1)  # diff: bad data is usage
    assert "Traceback" not in output
    assert "strict mode: rows would be dropped: 20 events of undeclared types: " in output
    (tmp_path / "scorelang.toml").write_text(
        CONFIG.replace("[sources]\n", "[sources]\nstrict = true\n"), encoding="utf-8"
    )
    assert CliRunner().invoke(app, arguments).exit_code == strict.exit_code


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--database", "postgresql:///nowhere", "--engine", "duckdb"], "is a Postgres server but --engine is duckdb"),
        (["--database", "w.duckdb", "--engine", "postgres"], "--engine postgres needs a postgresql:// URL"),
        (["--database", "w.duckdb"], "reads either files (--leads/--events) or the tables in --database, not both"),
    ],
)  # fmt: skip
def test_conflicting_score_options_are_usage_errors(
    options: list[str], message: str, tmp_path: Path
) -> None:
    arguments = commands(tmp_path, *crm_data(tmp_path))["score"]
    result = CliRunner().invoke(app, [*arguments, *options])
    assert result.exit_code == 2 and message in " ".join(result.output.replace("│", "").split())


def test_a_postgres_url_implies_the_postgres_engine(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "scorelang.toml").write_text(CONFIG, encoding="utf-8")
    arguments = commands(tmp_path, *crm_data(tmp_path))["score"]
    config = ["--config", str(tmp_path / "scorelang.toml")]
    implied = CliRunner().invoke(app, [*arguments, *config, "--database", pg_url])
    assert implied.exit_code == 0, implied.output
    assert "as of 2026-01-01T00:00:00Z, postgres" in " ".join(implied.output.split())
    duck = CliRunner().invoke(app, [*arguments, *config])
    assert implied.output.replace("postgres", "duckdb").split() == duck.output.split()


def test_explain_takes_the_engine_from_a_postgres_url(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "scorelang.toml").write_text(CONFIG, encoding="utf-8")
    arguments = commands(tmp_path, *crm_data(tmp_path))["explain"]
    config = ["--config", str(tmp_path / "scorelang.toml"), "--format", "json"]
    implied = CliRunner().invoke(app, [*arguments, *config, "--database", pg_url])
    python = CliRunner().invoke(app, [*arguments, *config])
    assert implied.exit_code == python.exit_code == 0, implied.output
    assert implied.stdout == python.stdout
    conflict = CliRunner().invoke(
        app, [*arguments, *config, "--database", pg_url, "--engine", "duckdb"]
    )
    output = " ".join(conflict.output.replace("│", "").split())
    assert conflict.exit_code == 2 and "is a Postgres server but --engine is duckdb" in output
