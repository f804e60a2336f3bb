"""Accounts in data: the accounts file is mapped, loaded and validated like the leads file
(a CRM export with odd headers, a missing column, a typo in scorelang.toml), leads whose
account is absent are counted rather than refused, and datagen makes accounts with their
contacts."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from scorelang.compiler import ir

from scorelang import datagen
from scorelang.columns import check_mapping
from scorelang.config import ConfigError, SourceMapping, load_config
from scorelang.data import DataError, LoadReport, load_duckdb, read_inputs, read_records

F = ir.FieldType
MODEL = ir.Model(
    name="abm_data",
    description=None,
    key="id",
    lead_fields=(
        F("id", ir.Type.STRING),
        F("email", ir.Type.STRING),
        F("account_id", ir.Type.STRING, optional=True),
        F("department", ir.Type.STRING, optional=True),
    ),
    event_types=(ir.EventType("page_view", (F("url", ir.Type.STRING),)),),
    aggregates=(),
    scores=(),
    account=ir.Entity(
        ir.ACCOUNT,
        "id",
        (
            F("id", ir.Type.STRING),
            F("name", ir.Type.STRING),
            F("industry", ir.Type.STRING, optional=True),
            F("employees", ir.Type.INT, optional=True),
        ),
    ),
    account_link="account_id",
)
LEADS = [
    {"id": "l1", "email": "ann@acme.io", "account_id": "a1", "department": "it"},
    {"id": "l2", "email": "bob@acme.io", "account_id": "a1", "department": "sales"},
    {"id": "l3", "email": "cy@gmail.com", "account_id": "", "department": ""},
    {"id": "l4", "email": "di@orbital.dev", "account_id": "a9", "department": "it"},
]
EVENTS = [
    {"lead_id": "l1", "event_type": "page_view", "occurred_at": "2025-12-30", "url": "/pricing"},
    {"lead_id": "l4", "event_type": "page_view", "occurred_at": "2025-12-29", "url": "/"},
]
# A CRM export: its own headers for the account fields.
CRM_HEADERS = {
    "id": "Account ID",
    "name": "Account Name",
    "industry": "Industry (SIC)",
    "employees": "# Employees",
}
ACCOUNTS = [
    {"id": "a1", "name": "Acme", "industry": "saas", "employees": "250"},
    {"id": "a2", "name": "Orbital", "industry": "", "employees": ""},
]
CRM_TOML = """\
[sources.entities.account]
table = "crm_accounts"

[sources.entities.account.columns]
id = "Account ID"
name = "Account Name"
industry = "Industry (SIC)"
employees = "# Employees"
"""


def write_csv(path: Path, rows: list[dict[str, str]], header: dict[str, str] | None = None):
    names = list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([(header or {}).get(n, n) for n in names])
        writer.writerows([row[n] for n in names] for row in rows)
    return path


def files(folder: Path, accounts=ACCOUNTS, header=None) -> tuple[Path, Path, Path]:
    return (
        write_csv(folder / "leads.csv", LEADS),
        write_csv(folder / "events.csv", EVENTS),
        write_csv(folder / "accounts.csv", accounts, header),
    )


def toml(folder: Path, text: str) -> SourceMapping:
    path = folder / "scorelang.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path).sources


def load(folder: Path, mapping: SourceMapping | None = None, **given) -> LoadReport:
    leads, events, accounts = files(folder, **given)
    return load_duckdb(duckdb.connect(), MODEL, leads, events, mapping, accounts=accounts)


def test_accounts_load_beside_leads_and_an_absent_account_is_counted_not_refused(tmp_path):
    report = load(tmp_path)
    assert (report.leads, report.events, report.accounts) == (4, 2, 2)
    assert report.unknown_account_leads == 1  # l4 names a9; l3 has no account: not counted
    assert report.noteworthy and report.dropped == 0
    assert report.summary() == (
        "4 leads, 2 events, 2 accounts; 1 lead names an account key absent from the accounts "
        "file (scored without an account)"
    )


def test_account_records_are_typed_like_lead_records(tmp_path):
    leads, events, accounts = files(tmp_path)
    inputs = read_inputs(MODEL, leads, events, accounts=accounts)
    assert inputs.accounts == [
        {"id": "a1", "name": "Acme", "industry": "saas", "employees": 250},
        {"id": "a2", "name": "Orbital", "industry": None, "employees": None},
    ]
    assert [lead["account_id"] for lead in inputs.leads] == ["a1", "a1", None, "a9"]
    assert isinstance(inputs.events, list) and len(inputs.events) == 2
    columnar = read_inputs(MODEL, leads, events, accounts=accounts, columnar=True)
    assert columnar.accounts == inputs.accounts and columnar.leads == inputs.leads


def test_a_crm_export_with_odd_headers_reads_through_the_mapping(tmp_path):
    mapping = toml(tmp_path, CRM_TOML)
    leads, events, accounts = files(tmp_path, header=CRM_HEADERS)
    con = duckdb.connect()
    report = load_duckdb(con, MODEL, leads, events, mapping, accounts=accounts)
    assert report.accounts == 2 and report.unknown_account_leads == 1
    rows = con.execute('SELECT "Account ID", "# Employees" FROM crm_accounts').fetchall()
    assert rows == [("a1", 250), ("a2", None)]
    inputs = read_inputs(MODEL, leads, events, mapping, accounts=accounts)
    assert inputs.accounts is not None and inputs.accounts[0]["employees"] == 250


def test_a_missing_account_column_names_the_field_and_the_mapping_key(tmp_path):
    with pytest.raises(DataError) as error:
        load(tmp_path, header={"id": "AccountId"})
    message = str(error.value)
    assert "accounts.csv: missing required column 'id' for account field id" in message
    assert "map it under [sources.entities.account.columns] in scorelang.toml" in message
    assert "the file has: 'AccountId', 'name', 'industry', 'employees'" in message
    mapping = toml(tmp_path, CRM_TOML)
    with pytest.raises(
        DataError,
        match=r"missing required column 'Account ID' for account "
        r"field id \(column name from \[sources.entities.account.columns\]",
    ):
        load(tmp_path, mapping)


def test_an_absent_nullable_account_column_can_be_allowed(tmp_path):
    rows = [{k: v for k, v in row.items() if k != "industry"} for row in ACCOUNTS]
    with pytest.raises(DataError, match="add 'industry' to allow_missing_columns"):
        load(tmp_path, accounts=rows)
    report = load(tmp_path, SourceMapping(allow_missing_columns=("industry",)), accounts=rows)
    assert report.missing_columns == ("industry",)


def test_unreadable_account_values_and_duplicate_keys_are_errors(tmp_path):
    bad = [*ACCOUNTS, {"id": "a3", "name": "", "industry": "x", "employees": "12.5"}]
    with pytest.raises(DataError) as error:
        load(tmp_path, accounts=bad)
    assert "accounts.csv: column 'employees': 1 values are not a valid int, e.g. row 3: '12.5'" in (
        str(error.value)
    )
    assert "column 'name': 1 missing values in a required field, e.g. row 3" in str(error.value)
    twice = [*ACCOUNTS, ACCOUNTS[0]]
    with pytest.raises(DataError, match=r"1 duplicate account keys in column 'id', e.g. 'a1'"):
        load(tmp_path, accounts=twice)


def test_a_typo_in_the_toml_is_caught_with_a_suggestion(tmp_path):
    typo = toml(tmp_path, '[sources.entities.account.columns]\nindusty = "Industry"\n')
    with pytest.raises(
        ConfigError,
        match=r"maps 'industy', which is not an account field of "
        r"model abm_data; did you mean `industry`\?",
    ):
        check_mapping(MODEL, typo)
    entity = toml(tmp_path, '[sources.entities.acount]\ntable = "crm"\n')
    with pytest.raises(
        ConfigError,
        match=r"\[sources.entities.acount\] names an entity .*"
        r"did you mean `account`",
    ):
        check_mapping(MODEL, entity)
    misplaced = toml(tmp_path, '[sources.columns]\nemployees = "Employees"\n')
    with pytest.raises(
        ConfigError,
        match=r"account fields are mapped under "
        r"\[sources.entities.account.columns\]",
    ):
        check_mapping(MODEL, misplaced)
    with pytest.raises(
        ConfigError,
        match=r"entities.account takes `table` and `columns`, not "
        r"'tabel' \(did you mean `table`\?\)",
    ):
        toml(tmp_path, '[sources.entities.account]\ntabel = "crm"\n')
    with pytest.raises(ConfigError, match="an account's events are its leads' events"):
        toml(tmp_path, '[sources.entities.account]\nevent_key = "account_id"\n')


def test_the_accounts_file_is_required_by_a_model_with_an_account_and_only_by_it(tmp_path):
    leads, events, accounts = files(tmp_path)
    with pytest.raises(DataError) as error:
        read_records(MODEL, leads, events)
    assert "model abm_data scores accounts: give the accounts file with --accounts FILE" in (
        str(error.value)
    )
    assert (
        "the accounts table is 'accounts', named by `table` under [sources.entities.account]"
        in (str(error.value))
    )
    plain = ir.Model("plain", None, "id", MODEL.lead_fields, MODEL.event_types, (), ())
    with pytest.raises(DataError, match="model plain declares no account"):
        load_duckdb(duckdb.connect(), plain, leads, events, accounts=accounts)
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        load_duckdb(duckdb.connect(), MODEL, leads, events, accounts=tmp_path / "nope.csv")


def test_strict_mode_refuses_leads_whose_account_is_absent(tmp_path):
    with pytest.raises(
        DataError,
        match=r"leads.csv: strict mode: leads would be scored "
        r"without their account: 1 lead of .* names an account key absent",
    ):
        load(tmp_path, SourceMapping(strict=True))
    linked = [*ACCOUNTS, {"id": "a9", "name": "Nine", "industry": "", "employees": ""}]
    assert load(tmp_path, SourceMapping(strict=True), accounts=linked).unknown_account_leads == 0


# ---- datagen ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated() -> datagen.Dataset:
    return datagen.generate(MODEL, 400, seed=5, account_outcome="opportunity")


def test_datagen_is_deterministic_with_accounts(generated):
    assert datagen.generate(MODEL, 400, seed=5, account_outcome="opportunity") == generated
    assert datagen.generate(MODEL, 400, seed=6, account_outcome="opportunity") != generated


def test_datagen_links_several_contacts_per_account_and_leaves_some_unlinked(generated):
    assert len(generated.accounts) == 100  # a quarter of the leads by default
    assert generated.account_columns == ("id", "name", "industry", "employees", "opportunity")
    keys = [a["id"] for a in generated.accounts]
    assert len(set(keys)) == len(keys)
    contacts = Counter(lead["account_id"] for lead in generated.leads)
    unlinked = contacts.pop(None, 0)
    assert 20 <= unlinked <= 70  # about one lead in ten has no account
    assert set(contacts) <= set(keys)  # every link names a generated account
    assert max(contacts.values()) >= 10 and Counter(contacts.values())[1] >= 5  # skewed
    assert len(set(keys) - set(contacts)) >= 10  # accounts without leads
    opportunities = [a["opportunity"] for a in generated.accounts]
    assert 5 <= sum(opportunities) <= 50


def test_datagen_contacts_work_at_their_accounts_company(generated):
    domains = {
        a["id"]: {
            lead["email"].split("@")[1] for lead in generated.leads if lead["account_id"] == a["id"]
        }
        for a in generated.accounts
    }
    shared = [d for d in domains.values() if len(d - set(datagen.FREE)) == 1]
    assert len(shared) >= 50  # one company domain per account (besides free webmail)
    assert len({a["name"] for a in generated.accounts}) == len(generated.accounts)


def test_datagen_writes_accounts_that_load_cleanly(tmp_path):
    dataset = datagen.generate(MODEL, 120, seed=2, account_outcome="opportunity")
    leads, events = datagen.write(dataset, tmp_path)
    accounts = datagen.accounts_path(tmp_path)
    assert accounts.read_text().splitlines()[0] == "id,name,industry,employees,opportunity"
    report = load_duckdb(duckdb.connect(), MODEL, leads, events, accounts=accounts)
    assert (report.leads, report.accounts, report.unknown_account_leads) == (120, 30, 0)
    parquet = datagen.write(dataset, tmp_path / "pq", "parquet")
    inputs = read_inputs(
        MODEL, *parquet, accounts=datagen.accounts_path(tmp_path / "pq", "parquet")
    )
    assert inputs.accounts == read_inputs(MODEL, leads, events, accounts=accounts).accounts


def test_datagen_of_a_model_without_account_is_unchanged():
    plain = ir.Model("plain", None, "id", MODEL.lead_fields[:2], MODEL.event_types, (), ())
    dataset = datagen.generate(plain, 50, seed=1)
    assert dataset.accounts == [] and dataset.account_columns == ()
