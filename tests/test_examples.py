"""The bundled examples: each compiles, its test blocks pass, its CSVs fit its schema and are
exactly what the data generator makes, and together they use every form of the language."""

from __future__ import annotations

import dataclasses
import filecmp
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scorelang.compiler import ast, ir
from scorelang.compiler.diagnostics import Severity
from scorelang.compiler.fmt import format_source
from scorelang.compiler.frontend import Compilation, compile_file, compile_source

from scorelang import engines
from scorelang.data import read_inputs
from scorelang.datagen import event_columns, generate, lead_columns, write
from scorelang.testing import run_tests

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FOLDERS = sorted(p.parent for p in EXAMPLES.glob("*/model.score"))
SEED, LEADS = 42, 150  # how the bundled CSVs were made (README: regenerate)
OUTCOME = "opportunity"  # the accounts' outcome column, for a model with an account
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def data_files(folder: Path, model: ir.Model) -> dict[str, Path]:
    """The folder's leads and events files, and its accounts file for a model with one."""
    files = {"leads": folder / "leads.csv", "events": folder / "events.csv"}
    return files | ({"accounts": folder / "accounts.csv"} if model.account else {})


def compiled(folder: Path) -> Compilation:
    return compile_file(folder / "model.score")


def model_of(folder: Path) -> ir.Model:
    model = compiled(folder).model
    assert model is not None
    return model


def test_there_are_the_three_documented_examples():
    assert {f.name for f in FOLDERS} >= {"b2b_saas", "ecommerce", "advanced"}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_example_compiles_without_errors_or_warnings(folder):
    compilation = compiled(folder)
    assert [str(d) for d in compilation.diagnostics if d.severity >= Severity.WARNING] == []
    assert compilation.model is not None


@pytest.mark.parametrize(
    "path", sorted(EXAMPLES.glob("*/*.score")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_example_sources_are_in_the_canonical_format(path):
    source = path.read_text()
    assert format_source(source, str(path))[0] == source, f"run: scorelang fmt {path}"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_example_test_blocks_pass(folder):
    outcomes = run_tests(model_of(folder))
    assert len(outcomes) >= 3
    failures = {o.name: [(f.text, f.expected, f.actual) for f in o.failures] for o in outcomes}
    assert {name: f for name, f in failures.items() if f} == {}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_bundled_csvs_have_the_models_columns_and_size(folder):
    model = model_of(folder)
    leads = (folder / "leads.csv").read_text().splitlines()
    events = (folder / "events.csv").read_text().splitlines()
    assert leads[0].split(",") == list(lead_columns(model))
    assert events[0].split(",") == list(event_columns(model))
    assert 100 <= len(leads) - 1 < 200
    assert 500 <= len(events) - 1 < 3000


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_bundled_csvs_load_cleanly(folder):
    """Typed and validated by the loader every engine uses: nothing dropped, no error."""
    model = model_of(folder)
    files = data_files(folder, model)
    reports = []
    inputs = read_inputs(
        model, files["leads"], files["events"], on_load=reports.append,
        accounts=files.get("accounts"),
    )  # fmt: skip
    leads, events = inputs.leads, inputs.events
    assert isinstance(events, list) and reports[0].unknown_account_leads == 0
    keys = {lead[model.key] for lead in leads}
    declared = {t.name for t in model.event_types}
    assert len(keys) == len(leads)
    assert all(e["lead_id"] in keys and e["event_type"] in declared for e in events)
    assert len(events) == len((folder / "events.csv").read_text().splitlines()) - 1


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_bundled_csvs_are_reproducible_from_the_generator(folder, tmp_path):
    model = model_of(folder)
    outcome = OUTCOME if model.account else None
    write(generate(model, LEADS, SEED, AS_OF, account_outcome=outcome), tmp_path)
    for name in (path.name for path in data_files(folder, model).values()):
        assert filecmp.cmp(tmp_path / name, folder / name, shallow=False), (
            f"{folder.name}/{name} differs: regenerate with "
            f"python -m scorelang.datagen {folder}/model.score --leads {LEADS} --seed {SEED} "
            f"--out {folder}" + (f" --account-outcome {OUTCOME}" if outcome else "")
        )


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_rule_fires_for_some_bundled_lead_but_not_all(folder):
    """The sample data exercises the whole model: no rule is dead or constant on it (nor,
    for a model with an account, on its accounts)."""
    model = model_of(folder)
    for entity in (e.name for e in model.entities):
        rows = engines.score(
            model, "duckdb", as_of=AS_OF, entity=entity, **data_files(folder, model)
        )
        for rule in (r for s in model.outputs_of(entity).scores for r in s.rules):
            fired = sum(1 for row in rows if row[rule.id])
            assert 0 < fired < len(rows), f"{rule.id} fires for {fired} of {len(rows)} {entity}s"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_duckdb_agrees_with_python_on_the_bundled_data(folder):
    model = model_of(folder)
    files = data_files(folder, model) | {"as_of": AS_OF}
    for entity in (e.name for e in model.entities):
        duck = engines.score(model, "duckdb", entity=entity, **files)
        assert duck == engines.score(model, "python", entity=entity, **files)


# ---- every form of the language appears in some example -----------------------------------


def nodes(node: object) -> Iterator[object]:
    yield node
    if isinstance(node, tuple):
        for item in node:
            yield from nodes(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from nodes(getattr(node, f.name))


def used_forms() -> set[str]:
    """Names for each construct used by the examples' source files (imports included)."""
    forms: set[str] = set()
    for folder in FOLDERS:
        for module in compiled(folder).modules.values():
            for node in nodes(module.decls):
                forms.add(type(node).__name__)
                match node:
                    case ast.StringTest(op=op) | ast.Compare(op=op) | ast.Arith(op=op):
                        forms.add(op)
                    case ast.BoolOp(op=op):
                        forms.add(op)
                    case ast.Call(function=function):
                        forms.add(f"{function}()")
                    case ast.In(negated=True):
                        forms.add("not in")
                    case ast.IsMissing(negated=negated):
                        forms.add("is present" if negated else "is missing")
                    case ast.Matches(pattern=ast.Name()):
                        forms.add("matches const")
                    case ast.Points(value=ast.Name()):
                        forms.add("points const")
                    case ast.GroupRule(max=ast.Name()):
                        forms.add("group max const")
                    case ast.Visited(path=path) if path.endswith("*"):
                        forms.add("visited prefix")
                    case ast.TestDecl(as_of=as_of) if as_of is not None:
                        forms.add("test as_of")
    return forms


LANGUAGE_FORMS = {
    # declarations
    "ModelDecl", "ImportDecl", "LeadDecl", "EventDecl", "ConstDecl", "SegmentDecl",
    "ScoreDecl", "CompositeDecl", "TierDecl", "PercentileTierDecl", "MatrixDecl", "FlagDecl",
    "TestDecl", "test as_of", "Expect",
    # rules
    "WhenRule", "EachRule", "GroupRule", "ClampRule", "Reset", "MaxOption", "DecayOption",
    "LinearDecayOption", "OncePerOption", "points const", "group max const",
    # conditions
    "==", "!=", "<", "<=", ">", ">=", "In", "not in", "Between", "contains", "starts_with",
    "ends_with", "Matches", "matches const", "is missing", "is present", "and", "or", "Not",
    "QualifiedName", "Regex", "ListExpr", "Bool",
    # arithmetic and functions
    "+", "-", "*", "/", "lower()", "upper()", "email_domain()", "days_since()", "len()",
    "min()", "max()", "round()", "abs()", "previous()", "change()",
    # event sets
    "Activity", "Visited", "visited prefix", "Where", "Within", "BetweenAgo", "No", "Then",
    "count()", "count_distinct()", "sum()", "last()", "first()",
}  # fmt: skip


def test_the_examples_use_every_form_of_the_language():
    assert LANGUAGE_FORMS - used_forms() == set()


DOCS = (EXAMPLES.parent / "README.md", EXAMPLES.parent / "docs" / "language.md")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_complete_models_in_the_docs_compile_and_their_tests_pass(doc):
    """Every code block of the README and the reference that is a whole model stays true."""
    blocks = [
        b for b in re.findall(r"```\n(.*?)```", doc.read_text(), re.S) if b.startswith("model ")
    ]
    assert blocks
    for source in blocks:
        compilation = compile_source(source, doc.name)
        assert compilation.model is not None, [str(d) for d in compilation.diagnostics]
        outcomes = run_tests(compilation.model)
        assert outcomes and all(o.passed for o in outcomes)
