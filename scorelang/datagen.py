"""Deterministic, realistic sample data for any model: a leads table and the wide events table.

It builds the bundled example CSVs and feeds the benchmarks. Values come from a small
vocabulary keyed by field name (emails, job titles, URLs, employee counts, ...) mixed with
the literals the model itself tests (`industry in [...]`, `form == "contact-us"`,
`visited "/pricing"`, `employees > 1000`), so each rule fires for some leads and not for others.
Activity is skewed like real funnels: some leads have no events, most have a few, a few
have many; some went quiet months ago. Nullable values are sometimes missing, and a few
events fall after `as_of` (they must be ignored). Same model, seed, size and `as_of`: same
bytes.

For a model with an account, accounts (firmographics) come first, and leads are their
contacts: several per account, sharing its company and email domain, busier at the fifth of
accounts that are in a buying cycle; some leads have no account and some accounts no leads.
An optional outcome column (`--account-outcome opportunity`) marks accounts that went on to
an opportunity, likelier for the busy ones, for account backtests.

    python -m scorelang.datagen examples/b2b_saas/model.score --leads 150 --seed 7 --out DIR
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import math
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .compiler import ir
from .records import EVENT_LEAD, EVENT_TIME, EVENT_TYPE, to_utc

DEFAULT_AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
DAY = 86400.0

Value = str | int | float | bool | datetime | None
Row = dict[str, Value]

# ---- what the model tests: literals per field, so generated values make rules fire -------


@dataclass(frozen=True)
class Hints:
    """Literals the model compares each lead field / event property with."""

    values: dict[str, list[Value]] = field(default_factory=dict)  # equality, lists, bounds
    affixes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (op, text)
    domains: list[str] = field(default_factory=list)  # from email_domain(x) in / == ...

    def add(self, name: str, value: Value) -> None:
        known = self.values.setdefault(name, [])
        if value not in known:
            known.append(value)


def collect_hints(model: ir.Model) -> tuple[Hints, Hints, Hints]:
    """(lead hints, event property hints, account hints) from every condition and event
    filter."""
    lead, event, account = Hints(), Hints(), Hints()
    for node in ir.subexpressions((model.aggregates, model.scores)):
        _hint(node, lead, event, account)
    return lead, event, account


def _subject(expr: ir.Expr) -> tuple[str, str] | None:
    """("lead" | "event" | "account" | "domain", name) when `expr` reads one field, maybe
    through a case function; "domain" for `email_domain(field)`."""
    if isinstance(expr, ir.LeadField):
        return "lead", expr.name
    if isinstance(expr, ir.EventProp):
        return "event", expr.name
    if isinstance(expr, ir.AccountField):
        return "account", expr.name
    if isinstance(expr, ir.Func) and len(expr.args) == 1:
        inner = _subject(expr.args[0])
        if inner and expr.name == "email_domain":
            return "domain", inner[1]
        if inner and expr.name in ("lower", "upper"):
            return inner
    return None


def _hint(node: ir.Expr, lead: Hints, event: Hints, account: Hints) -> None:
    pairs: list[tuple[ir.Expr, Value]] = []
    match node:
        case ir.Compare(left=left, right=ir.Literal(value=value)):
            pairs.append((left, value))
        case ir.Compare(left=ir.Literal(value=value), right=right):
            pairs.append((right, value))
        case ir.InList(value=subject, options=options):
            pairs.extend((subject, option.value) for option in options)
        case ir.Between(value=subject, low=ir.Literal(value=low), high=ir.Literal(value=high)):
            pairs.extend([(subject, low), (subject, high)])
        case ir.StringTest(op=op, value=subject, operand=ir.Literal(value=str(text))):
            found = _subject(subject)
            if found and found[0] != "domain":
                hints = {"lead": lead, "event": event, "account": account}[found[0]]
                hints.affixes.setdefault(found[1], []).append((op, text))
    for subject, value in pairs:
        found = _subject(subject)
        if found is None:
            continue
        kind, name = found
        if kind == "domain" and isinstance(value, str) and value not in lead.domains:
            lead.domains.append(value)
        elif kind != "domain":
            {"lead": lead, "event": event, "account": account}[kind].add(name, value)


# ---- the vocabulary: realistic values by field name --------------------------------------

FIRST = (
    "Ann", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kim",
    "Luca", "Maya", "Noah", "Olga", "Priya", "Rui", "Sara", "Tom",
)  # fmt: skip
LAST = (
    "Adams", "Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen",
    "Lopez", "Moreau", "Olsen", "Patel", "Rossi", "Smith",
)  # fmt: skip
COMPANY = (
    "Acme", "Orbital", "Northwind", "Bluefin", "Lumen", "Quanta", "Brightpath", "Cobalt",
    "Fintrack", "Shipfast", "Helix", "Nimbus",
)  # fmt: skip
SUFFIX = ("", "", " Labs", " Systems", " Consulting", " Group", " Inc")
COMPANY_KINDS = ("", " Labs", " Systems", " Cloud", " Analytics", " Group", " Partners", " Works")
TLD = (".com", ".io", ".dev", ".co.uk", ".de")
FREE = ("gmail.com", "yahoo.com", "outlook.com")
TITLES = (
    "VP Sales", "Head of Marketing", "Director of Engineering", "Software Engineer", "CTO",
    "Marketing Manager", "Data Analyst", "Founder", "Student", "Product Manager", "Intern",
    "Sales Development Rep", "Chief Revenue Officer", "Consultant",
)  # fmt: skip
INDUSTRIES = (
    "software", "saas", "fintech", "education", "retail", "manufacturing", "healthcare", "media",
    "logistics",
)  # fmt: skip
COUNTRIES = ("US", "US", "US", "GB", "DE", "CA", "FR", "NL", "IN", "BR", "AU", "ES")
DEPARTMENTS = (
    "engineering", "marketing", "sales", "finance", "it", "operations", "product", "hr",
)  # fmt: skip
CITIES = ("Austin", "London", "Berlin", "Toronto", "Paris", "Amsterdam", "Bangalore", "Sydney")
PAGES = (
    "/", "/pricing", "/product", "/features", "/docs/getting-started", "/docs/api", "/customers",
    "/blog/lead-scoring-101", "/blog/revops-metrics", "/about", "/careers",
)  # fmt: skip
SLUGS = ("intro", "setup", "api", "faq", "guide", "overview", "sale", "new")
CAMPAIGNS = ("welcome", "nurture-1", "nurture-2", "product-update", "webinar-invite", "spring-sale")
CATEGORIES = ("dresses", "shoes", "bags", "coats", "accessories", "knitwear")
WORDS = {
    "form": ("contact-us", "newsletter", "ebook", "webinar-signup", "free-trial"),
    "asset": ("roi-calculator", "buyers-guide", "benchmark-report", "case-study"),
    "webinar": ("scaling-revops", "q1-launch", "analytics-deep-dive"),
    "link": ("/pricing", "/blog/lead-scoring-101", "/product", "/docs/api"),
    "referrer": ("google", "linkedin", "newsletter", "direct", "g2"),
    "network": ("instagram", "tiktok", "facebook", "pinterest"),
    "action": ("like", "like", "comment", "share"),
    "plan": ("free", "team", "business", "enterprise"),
    "feature": ("api", "sso", "dashboards", "exports", "alerts", "integrations"),
    "severity": ("low", "low", "medium", "high"),
}
# How often each event type happens, relative to the others (unknown types: 1).
EVENT_WEIGHTS = {
    "page_view": 10,
    "product_view": 8,
    "email_open": 6,
    "email_click": 2.5,
    "feature_used": 4,
    "social_engagement": 2,
    "form_submit": 0.8,
    "content_download": 1,
    "add_to_cart": 1.5,
    "checkout_start": 0.6,
    "purchase": 0.5,
    "webinar_attend": 0.4,
    "demo_request": 0.3,
    "trial_start": 0.3,
    "invite_sent": 0.6,
    "support_ticket": 0.4,
    "unsubscribe": 0.1,
}
BOOL_RATES = {"is_customer": 0.08, "loyalty_member": 0.35, "marketing_opt_in": 0.7}


@dataclass(frozen=True)
class Persona:
    """The person behind one lead, so that name, company and email agree."""

    first: str
    last: str
    company: str
    domain: str


def persona(
    rng: random.Random, hinted_domains: Sequence[str], employer: Persona | None = None
) -> Persona:
    """Mostly company addresses; a fifth free webmail; a few domains the model names. A
    contact of an account (`employer`) works at its company, under its domain."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = rng.choice(COMPANY) + rng.choice(SUFFIX)
    roll = rng.random()
    if roll < 0.08 and hinted_domains:
        domain = rng.choice(hinted_domains)
    elif roll < 0.28:
        domain = rng.choice(FREE)
    elif employer is not None:
        return Persona(first, last, employer.company, employer.domain)
    else:
        domain = company.split()[0].lower() + (".edu" if roll > 0.97 else rng.choice(TLD))
    return Persona(first, last, employer.company if employer else company, domain)


def company_persona(rng: random.Random, serial: int) -> Persona:
    """Account `serial`'s company: a name no other account has (vocabulary words, numbered
    once they are used up) and its domain."""
    base, rest = COMPANY[serial % len(COMPANY)], serial // len(COMPANY)
    name = base + COMPANY_KINDS[rest % len(COMPANY_KINDS)]
    if rest >= len(COMPANY_KINDS):
        name += f" {rest // len(COMPANY_KINDS) + 1}"
    return Persona("", "", name, "".join(name.lower().split()) + rng.choice(TLD))


def _number(name: str, rng: random.Random) -> float:
    """Plausible magnitudes by field name; a log-normal spread otherwise."""
    if "employee" in name:
        return max(1, round(rng.lognormvariate(math.log(150), 1.6)))
    if "revenue" in name:
        return round(rng.lognormvariate(math.log(2e7), 1.5), -3)
    if name == "age":
        return rng.randint(18, 70)
    if name in ("seats", "quantity"):
        return rng.randint(1, 8)
    return round(rng.lognormvariate(math.log(80), 0.9), 2)


def _string(name: str, rng: random.Random, who: Persona, serial: int) -> str:
    vocabulary: dict[str, Callable[[], str]] = {
        "email": lambda: f"{who.first}.{who.last}@{who.domain}".lower(),
        "name": lambda: f"{who.first} {who.last}",
        "first_name": lambda: who.first,
        "last_name": lambda: who.last,
        "company": lambda: who.company,
        "job_title": lambda: rng.choice(TITLES),
        "title": lambda: rng.choice(TITLES),
        "industry": lambda: rng.choice(INDUSTRIES),
        "department": lambda: rng.choice(DEPARTMENTS),
        "country": lambda: rng.choice(COUNTRIES),
        "city": lambda: rng.choice(CITIES),
        "phone": lambda: (
            f"+{rng.choice([1, 44, 49, 33])} {rng.randint(200, 999)} 555 {rng.randint(1000, 9999)}"
        ),
        "url": lambda: rng.choice(PAGES),
        "campaign": lambda: rng.choice(CAMPAIGNS),
        "category": lambda: rng.choice(CATEGORIES),
        "sku": lambda: f"{rng.choice('DSBCAK')}-{rng.randint(1000, 1099)}",
        "order_id": lambda: f"o-{serial}",
    }
    if name in vocabulary:
        return vocabulary[name]()
    if name in WORDS:
        return rng.choice(WORDS[name])
    return f"{name}-{rng.randint(1, 6)}"


# ---- generation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    leads: list[Row]
    events: list[Row]
    lead_columns: tuple[str, ...]
    event_columns: tuple[str, ...]
    # A model with an account: every account in the first batch, none in the others.
    accounts: list[Row] = field(default_factory=list)
    account_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    """A generated account: its row, its company, and whether it is in a buying cycle (its
    contacts are busier; an opportunity is likelier)."""

    row: Row
    company: Persona
    active: bool
    opportunity: bool  # the outcome an account backtest measures (`--account-outcome`)


@dataclass(frozen=True)
class _Generator:
    model: ir.Model
    rng: random.Random
    as_of: datetime
    events_per_lead: float
    lead_hints: Hints
    event_hints: Hints
    account_hints: Hints = field(default_factory=Hints)
    serials: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def value(self, f: ir.FieldType, hints: Hints, who: Persona, missing: float) -> Value:
        rng = self.rng
        if f.optional and rng.random() < missing:
            return None
        serial = next(self.serials)
        if f.type is ir.Type.TIMESTAMP:
            days = (
                rng.uniform(1, 730)
                if "creat" in f.name or "signup" in f.name
                else rng.uniform(0, 120)
            )
            return self.as_of - timedelta(seconds=round(days * DAY))
        if f.type is ir.Type.BOOL:
            return rng.random() < BOOL_RATES.get(f.name, 0.5)
        hinted = [v for v in hints.values.get(f.name, ()) if _fits(v, f.type)]
        affixes = hints.affixes.get(f.name, [])
        if f.type is ir.Type.STRING and affixes and rng.random() < 0.2:
            op, text = rng.choice(affixes)
            if op == "starts_with":
                return text + rng.choice(SLUGS)
            base = _string(f.name, rng, who, serial)
            return base + text if op == "ends_with" else f"{base} {text}"
        if hinted and rng.random() < 0.35:
            chosen = rng.choice(hinted)
            if f.type.numeric and not isinstance(chosen, bool):
                return _near(float(chosen), f.type, rng)
            return chosen
        if f.type is ir.Type.STRING:
            return _string(f.name, rng, who, serial)
        number = _number(f.name, rng)
        return int(number) if f.type is ir.Type.INT else float(number)

    def lead(self, index: int, account: Account | None = None) -> tuple[Row, Persona]:
        """A lead; for a model with an account, a contact of `account` (None: of no account,
        its link field missing)."""
        who = persona(self.rng, self.lead_hints.domains, account.company if account else None)
        row: Row = {}
        for f in self.model.lead_fields:
            if f.name == self.model.key:
                row[f.name] = _key(f, index)
            elif f.name == self.model.account_link:
                row[f.name] = account.row[_account_key(self.model)] if account else None
            else:
                row[f.name] = self.value(f, self.lead_hints, who, 0.12)
        return row, who

    def account(self, index: int) -> Account:
        """An account: its key, its company's name for a name field, firmographics by field
        name and the model's literals; one in five in a buying cycle."""
        company = company_persona(self.rng, index)
        entity = self.model.account
        assert entity is not None
        row: Row = {}
        for f in entity.fields:
            if f.name == entity.key:
                row[f.name] = f"A{index + 1:04d}" if f.type is ir.Type.STRING else index + 1
            elif f.name in ("name", "company", "account_name") and f.type is ir.Type.STRING:
                row[f.name] = company.company
            elif f.name == "domain" and f.type is ir.Type.STRING:
                row[f.name] = company.domain
            else:
                row[f.name] = self.value(f, self.account_hints, company, 0.08)
        active = self.rng.random() < 0.2
        return Account(row, company, active, self.rng.random() < (0.6 if active else 0.05))

    def accounts(self, count: int) -> tuple[list[Account], list[float]]:
        """`count` accounts and how likely each is to be a lead's employer: skewed (a few
        large committees, many small ones; accounts in a buying cycle three times likelier),
        and zero for the last tenth (accounts without leads)."""
        made = [self.account(index) for index in range(count)]
        with_leads = count - count // 10 if count > 1 else count
        weights = [
            self.rng.paretovariate(1.2) * (3 if made[i].active else 1) if i < with_leads else 0.0
            for i in range(count)
        ]
        return made, weights

    def employer(self, accounts: Sequence[Account], weights: Sequence[float]) -> Account | None:
        """The account of a new lead; one lead in ten has none (when the link may be missing)."""
        link = next(f for f in self.model.lead_fields if f.name == self.model.account_link)
        if link.optional and self.rng.random() < 0.1:
            return None
        return self.rng.choices(accounts, weights)[0]

    def events(self, key: Value, who: Persona, busy: bool = False) -> list[Row]:
        """Sessions of a few events hours apart, older sessions spread out behind the most
        recent one. One lead in eight did nothing; one in six is hot: recent, busy, and
        doing the rare high-intent things (demos, purchases) five times as often. A contact
        of an account in a buying cycle (`busy`) is hot four times in five."""
        rng = self.rng
        types = self.model.event_types
        if not types or rng.random() < 0.12:
            return []
        hot = rng.random() < (0.8 if busy else 0.15)
        weights = [_weight(t.name, hot) for t in types]
        mean = self.events_per_lead * (2 if hot else 1)
        count = min(1 + int(rng.expovariate(1 / mean)), int(8 * mean))
        last_age = rng.uniform(0, 3) if hot else _last_active(rng)
        spread = 5 if hot else 20  # mean days between sessions
        rows: list[Row] = []
        while len(rows) < count:
            session_age = last_age + rng.expovariate(1 / spread)
            if rng.random() < 0.01:
                session_age = -rng.uniform(0, 5)  # exported after as_of: must be ignored
            for _ in range(min(count - len(rows), rng.randint(1, 5))):
                event_type = rng.choices(types, weights)[0]
                at = self.as_of - timedelta(seconds=round(session_age * DAY))
                row: Row = {EVENT_LEAD: key, EVENT_TYPE: event_type.name, EVENT_TIME: at}
                for prop in event_type.properties:
                    row[prop.name] = self.value(prop, self.event_hints, who, 0.15)
                rows.append(row)
                if session_age > 0:  # the next event of the session, hours later
                    session_age -= min(rng.expovariate(1 / 0.3), session_age / 2)
        return rows


def _weight(event_type: str, hot: bool) -> float:
    weight = EVENT_WEIGHTS.get(event_type, 1.0)
    return weight * 5 if hot and weight < 1 and event_type != "unsubscribe" else weight


def _last_active(rng: random.Random) -> float:
    """Days since a lead's latest session: half this week, a fifth gone quiet for months."""
    roll = rng.random()
    if roll < 0.5:
        return rng.uniform(0, 7)
    return rng.uniform(7, 60) if roll < 0.8 else rng.uniform(60, 300)


def _fits(value: Value, type_: ir.Type) -> bool:
    if type_ is ir.Type.STRING:
        return isinstance(value, str)
    return type_.numeric and isinstance(value, int | float) and not isinstance(value, bool)


def _near(threshold: float, type_: ir.Type, rng: random.Random) -> int | float:
    """A value on either side of a threshold the model tests."""
    value = threshold * rng.uniform(0.75, 1.3) if threshold else rng.uniform(-2, 2)
    if type_ is ir.Type.INT:
        return round(value)
    return round(value, 2) if abs(threshold) < 1000 else float(round(value, -3))


def _key(f: ir.FieldType, index: int) -> Value:
    return index + 1 if f.type.numeric else f"L{index + 1:05d}"


def _account_key(model: ir.Model) -> str:
    assert model.account is not None
    return model.account.key


def generate(
    model: ir.Model,
    leads: int,
    seed: int = 0,
    as_of: datetime = DEFAULT_AS_OF,
    events_per_lead: float = 12.0,
    accounts: int | None = None,
    account_outcome: str | None = None,
) -> Dataset:
    """`leads` leads and their events (and accounts, for a model with an account), the same
    for the same arguments."""
    (dataset,) = generate_batches(
        model, leads, seed, as_of, events_per_lead, leads, accounts, account_outcome
    )
    return dataset


def generate_batches(
    model: ir.Model,
    leads: int,
    seed: int = 0,
    as_of: datetime = DEFAULT_AS_OF,
    events_per_lead: float = 12.0,
    batch: int = 100_000,
    accounts: int | None = None,
    account_outcome: str | None = None,
) -> Iterator[Dataset]:
    """generate()'s leads and events, `batch` leads at a time (each batch's events sorted by
    time), so that a million leads (50M events) need one batch's memory, not 20 GB. For a
    model with an account, `accounts` accounts (default a quarter of the leads) come with the
    first batch, with a true/false `account_outcome` column when one is named."""
    lead_hints, event_hints, account_hints = collect_hints(model)
    gen = _Generator(
        model,
        random.Random(seed),
        to_utc(as_of),
        events_per_lead,
        lead_hints,
        event_hints,
        account_hints,
    )
    companies, weights = (
        gen.accounts(max(1, leads // 4) if accounts is None else accounts)
        if model.account is not None
        else ([], [])
    )
    columns = account_columns(model) + ((account_outcome,) if account_outcome else ())
    account_rows = [
        a.row | ({account_outcome: a.opportunity} if account_outcome else {}) for a in companies
    ]
    batch = max(batch, 1)
    for start in range(0, max(leads, 1), batch):
        lead_rows: list[Row] = []
        event_rows: list[Row] = []
        for index in range(start, min(leads, start + batch)):
            account = gen.employer(companies, weights) if companies else None
            row, who = gen.lead(index, account)
            lead_rows.append(row)
            event_rows.extend(
                gen.events(row[model.key], who, account is not None and account.active)
            )
        event_rows.sort(key=lambda e: (e[EVENT_TIME], str(e[EVENT_LEAD])))
        first = start == 0
        yield Dataset(
            lead_rows,
            event_rows,
            lead_columns(model),
            event_columns(model),
            account_rows if first else [],
            columns if model.account is not None else (),
        )


def lead_columns(model: ir.Model) -> tuple[str, ...]:
    return tuple(f.name for f in model.lead_fields)


def account_columns(model: ir.Model) -> tuple[str, ...]:
    return tuple(f.name for f in model.account.fields) if model.account is not None else ()


def event_columns(model: ir.Model) -> tuple[str, ...]:
    """The fixed columns, then each property name once, in order of first declaration."""
    props = dict.fromkeys(p.name for t in model.event_types for p in t.properties)
    return (EVENT_LEAD, EVENT_TYPE, EVENT_TIME, *props)


# ---- files --------------------------------------------------------------------------------


def cell(value: Value) -> str:
    """The CSV text of a value: ISO UTC times, lower-case booleans, empty for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


Sink = Callable[[Sequence[Row]], None]


@contextlib.contextmanager
def csv_sink(path: Path, columns: Sequence[str]) -> Iterator[Sink]:
    """A CSV file that rows are appended to, batch by batch."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        yield lambda rows: writer.writerows([cell(row.get(c)) for c in columns] for row in rows)


@contextlib.contextmanager
def parquet_sink(path: Path, columns: Sequence[str]) -> Iterator[Sink]:
    """A Parquet file that rows are appended to, one row group per batch; its schema is the
    first batch's (a column without any value there is text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None

    def add(rows: Sequence[Row]) -> None:
        nonlocal writer
        table = pa.Table.from_pydict({c: [row.get(c) for row in rows] for c in columns})
        if writer is None:
            fields = [
                f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
            ]
            writer = pq.ParquetWriter(path, pa.schema(fields))
        writer.write_table(table.cast(writer.schema))

    try:
        yield add
    finally:
        if writer is not None:
            writer.close()


def write(datasets: Dataset | Iterable[Dataset], out: Path, fmt: str = "csv") -> tuple[Path, Path]:
    """`leads.<fmt>` and `events.<fmt>` in `out` (created if needed), and `accounts.<fmt>`
    for a model with an account, from a dataset or from batches of one (generate_batches),
    written as they come: a batch is let go before the next is generated, so one batch at a
    time is in memory. Returns the leads and events paths."""
    out.mkdir(parents=True, exist_ok=True)
    sink = parquet_sink if fmt == "parquet" else csv_sink
    leads, events = out / f"leads.{fmt}", out / f"events.{fmt}"
    batches = iter([datasets] if isinstance(datasets, Dataset) else datasets)
    dataset: Dataset | None = next(batches)
    assert dataset is not None
    if dataset.account_columns:
        with sink(accounts_path(out, fmt), dataset.account_columns) as add_accounts:
            add_accounts(dataset.accounts)
    with (
        sink(leads, dataset.lead_columns) as add_leads,
        sink(events, dataset.event_columns) as add_events,
    ):
        while dataset is not None:
            add_leads(dataset.leads)
            add_events(dataset.events)
            dataset = None  # before the next batch exists
            dataset = next(batches, None)
    return leads, events


def accounts_path(out: Path, fmt: str = "csv") -> Path:
    """Where `write` puts the accounts of a model with an account."""
    return out / f"accounts.{fmt}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scorelang.datagen",
        description="Generate realistic, reproducible leads and events for a model.",
    )
    parser.add_argument("model", type=Path, help="the .score file whose schema to fill")
    parser.add_argument("--leads", type=int, default=150, help="number of leads (default 150)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="directory for the two files")
    parser.add_argument(
        "--as-of", default=DEFAULT_AS_OF.isoformat(), help="the instant events lead up to"
    )
    parser.add_argument(
        "--events-per-lead", type=float, default=12.0, help="mean events per active lead"
    )
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument(
        "--accounts",
        type=int,
        help="number of accounts, for a model with an account (default: a quarter of the leads)",
    )
    parser.add_argument(
        "--account-outcome",
        metavar="COLUMN",
        help="add this true/false outcome column to the accounts (e.g. opportunity), for "
        "account backtests",
    )
    args = parser.parse_args(argv)

    from .compiler.diagnostics import render_plain
    from .compiler.frontend import compile_file

    if not args.model.is_file():
        parser.error(f"no such file: {args.model}")
    try:
        as_of = to_utc(args.as_of)
    except ValueError as error:
        parser.error(str(error))
    compilation = compile_file(args.model)
    if compilation.model is None:
        for d in compilation.diagnostics:
            print(render_plain(d, compilation.sources.get(d.span.file)), file=sys.stderr)
        return 1
    model = compilation.model
    if model.account is None and (args.accounts is not None or args.account_outcome):
        parser.error(
            f"model {model.name} declares no account: --accounts and "
            "--account-outcome are for a model with `account { ... }`"
        )
    counts = [0, 0, 0]

    def counted(dataset: Dataset) -> Dataset:
        counts[0] += len(dataset.leads)
        counts[1] += len(dataset.events)
        counts[2] += len(dataset.accounts)
        return dataset

    batches = generate_batches(
        model,
        args.leads,
        args.seed,
        as_of,
        args.events_per_lead,
        accounts=args.accounts,
        account_outcome=args.account_outcome,
    )
    leads, events = write(map(counted, batches), args.out, args.format)
    accounts = (
        f"{counts[2]} accounts to {accounts_path(args.out, args.format)}, "
        if model.account is not None
        else ""
    )
    print(f"wrote {accounts}{counts[0]} leads to {leads} and {counts[1]} events to {events}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
