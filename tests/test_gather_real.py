"""Gathering through the real adapters: http-json against a real HTTP server on 127.0.0.1 playing
the offices (with injected faults), table over files, sql over SQLite and a real PostgreSQL; the
CLI's --deployment; and the deployment file's own problems, with file and line."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from postgres import postgres  # noqa: F401 (the fixture)
from reference import RULES, engine_over
from secondapproval import Engine, Outcome
from secondapproval.errors import DeploymentError
from secondapproval.sources.deployment import load_deployment, parse_deployment
from secondapproval.standin import (
    Endless,
    Hang,
    Huge,
    Latency,
    Malformed,
    Offices,
    Reset,
    Status,
    WrongType,
    serve,
)

TALENT = "graduate-hukou-shenzhen"
ON = dt.date(2019, 9, 1)
ID = "440304199605121230"
PERSON = {"id_number": ID, "name": "张三"}
DEGREE = {
    "id_number": ID,
    "level": "bachelor",
    "full_time": True,
    "regular_institution": True,
    "certificate_verified": True,
    "graduated_on": "2019-06-30",
}
CREDIT = {"id_number": ID, "untrustworthy": False, "penalties": []}
BROUGHT = {
    "applicant": {"id_number": ID},
    "employment": {"report_certificate": "issued-to-shenzhen"},
    "declaration": {"good_health": True, "no_banned_organisations": True},
    "record": {"criminal": False},
    "settlement": {"address_type": "talent-collective", "file_moves_with_hukou": True},
}
DEGREE_FACTS = """
          education.level: level
          education.full_time: full_time
          education.regular_institution: regular_institution
          education.certificate_verified: certificate_verified
          education.graduated_on: graduated_on"""
NEWBORN_PS = """
      - key: {id_number: mother.id_number}
        facts:
          mother.guangdong_hukou: guangdong_hukou
          registration.household_type: household_type
      - key: {id_number: father.id_number}
        facts: {father.guangdong_hukou: guangdong_hukou}"""
VOUCH = "vouch: [graduate-employment, criminal-records, civil-affairs, health-commission]"


def http_deployment(base: str, timeout: float = 0.5) -> str:
    return f"""{VOUCH}
sources:
  public-security:
    adapter: http-json
    timeout: {timeout}
    lookups:
      - key: {{id_number: applicant.id_number}}
        facts: {{applicant.name: name}}{NEWBORN_PS}
    settings: {{url: "{base}/population/{{id_number}}", retries: 1, backoff: 0.01}}
  degree-registry:
    adapter: http-json
    timeout: {timeout}
    lookups:
      - key: {{id_number: applicant.id_number}}
        facts:{DEGREE_FACTS}
    settings: {{url: "{base}/degrees/{{id_number}}", retries: 1, backoff: 0.01}}
  credit-platform:
    adapter: http-json
    timeout: {timeout}
    lookups:
      - key: {{id_number: applicant.id_number}}
        facts: {{credit.untrustworthy: untrustworthy, credit.penalties: penalties}}
    settings:
      url: "{base}/credit/{{id_number}}"
      retries: 1
      backoff: 0.01
      breaker: {{failures: 1000}}
"""


class Stand:
    def __init__(self) -> None:
        self.offices = Offices(["population", "degrees", "credit"])
        self.running = serve(self.offices.app)
        self.restore()

    def restore(self) -> None:
        self.offices.load("population", {ID: PERSON})
        self.offices.load("degrees", {ID: DEGREE})
        self.offices.load("credit", {ID: CREDIT})
        self.offices.reset()


@pytest.fixture(scope="module")
def stand() -> Iterator[Stand]:
    s = Stand()
    yield s
    s.running.stop()


@pytest.fixture
def engine(stand: Stand) -> Iterator[Engine]:
    stand.restore()
    deployment = parse_deployment(http_deployment(stand.running.url), "deploy.yaml")
    with Engine(snapshot=engine_over(RULES).snapshot, deployment=deployment) as e:
        yield e
    stand.restore()


def test_gathered_over_http_is_approved_with_the_offices_references(engine, stand):
    d = engine.decide(TALENT, BROUGHT, on=ON, gather=True)
    assert d.outcome is Outcome.APPROVE, d.codes
    reference = d.provenance["credit.untrustworthy"].reference
    assert reference is not None
    assert reference.startswith("credit-")  # the stand-in's X-Request-Id
    assert {s.office for s in stand.offices.seen()} == {"population", "degrees", "credit"}
    assert len(stand.offices.seen()) == 3  # once per source and key


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (Status(503), "UNAVAILABLE:credit-platform"),
        (Hang(), "UNAVAILABLE:credit-platform"),
        (Reset(), "UNAVAILABLE:credit-platform"),
        (Malformed(), "UNAVAILABLE:credit-platform"),
        (Endless(), "UNAVAILABLE:credit-platform"),
        (Huge(2_000_000), "UNAVAILABLE:credit-platform"),
        (Status(404), "NOT_FOUND:credit-platform"),
        (WrongType(), "INVALID:applicant.id_number"),  # the echoed key is wrong too
    ],
)
def test_every_fault_of_an_office_refers(engine, stand, fault, code):
    stand.offices.fault("credit", fault)
    d = engine.decide(TALENT, BROUGHT, on=ON, gather=True)
    assert d.outcome is Outcome.REFER
    assert code in d.codes, d.codes
    assert "credit.untrustworthy" not in d.values


def test_a_slow_office_within_its_timeout_is_waited_for(engine, stand):
    stand.offices.fault("degrees", Latency(0.05))
    assert engine.decide(TALENT, BROUGHT, on=ON, gather=True).approved


def test_a_transient_error_is_retried(engine, stand):
    stand.offices.fault("credit", Status(503), times=1)
    assert engine.decide(TALENT, BROUGHT, on=ON, gather=True).approved
    assert stand.offices.count("credit") == 2


# ---- table and sql ----
def _files(tmp_path: Path) -> dict[str, Path]:
    people = tmp_path / "people.jsonl"
    people.write_text(json.dumps(PERSON, ensure_ascii=False) + "\n", encoding="utf-8")
    degrees = tmp_path / "degrees.csv"
    degrees.write_text(
        ",".join(DEGREE) + "\n" + ",".join(str(v).lower() for v in DEGREE.values()) + "\n",
        encoding="utf-8",
    )
    credit = tmp_path / "credit.db"
    with sqlite3.connect(credit) as db:
        db.execute(
            "create table credit"
            " (id_number text primary key, untrustworthy integer, penalties text)"
        )
        db.execute("insert into credit values (?, 0, '[]')", (ID,))
    db.close()
    return {"people": people, "degrees": degrees, "credit": credit}


def offline_deployment(
    credit_db: str, statement: str, booleans: str = "[]", json_columns: str = ""
) -> str:
    return f"""{VOUCH}
sources:
  public-security:
    adapter: table
    lookups:
      - key: {{id_number: applicant.id_number}}
        facts: {{applicant.name: name}}{NEWBORN_PS}
    settings: {{path: people.jsonl, key: [id_number]}}
  degree-registry:
    adapter: table
    lookups:
      - key: {{id_number: applicant.id_number}}
        facts:{DEGREE_FACTS}
    settings:
      path: degrees.csv
      key: [id_number]
      columns: {{full_time: bool, regular_institution: bool, certificate_verified: bool}}
  credit-platform:
    adapter: sql
    timeout: 2
    lookups:
      - key: {{id_number: applicant.id_number}}
        facts: {{credit.untrustworthy: untrustworthy, credit.penalties: penalties}}
    settings:
      database: "{credit_db}"
      statement: "{statement}"
      booleans: {booleans}{json_columns}
"""


SQLITE_STATEMENT = (
    "SELECT id_number, untrustworthy, penalties FROM credit WHERE id_number = :id_number"
)
SQLITE_JSON = "\n      json_columns: [penalties]"
"""SQLite keeps the penalties as JSON text: the deployment names the column."""


def test_table_and_sqlite_sources_through_the_engine(tmp_path):
    _files(tmp_path)
    deploy = tmp_path / "deploy.yaml"
    deploy.write_text(offline_deployment("sqlite:///credit.db", SQLITE_STATEMENT), encoding="utf-8")
    with Engine(snapshot=engine_over(RULES).snapshot, deployment=deploy) as e:
        d = e.decide(TALENT, BROUGHT, on=ON, gather=True)
        assert d.outcome is Outcome.REFER  # SQLite gives 0, not a JSON false: never guessed
        assert "INVALID:credit.untrustworthy" in d.codes
    text = offline_deployment("sqlite:///credit.db", SQLITE_STATEMENT, "[untrustworthy]")
    deploy.write_text(text, encoding="utf-8")
    with Engine(snapshot=engine_over(RULES).snapshot, deployment=deploy) as e:
        d = e.decide(TALENT, BROUGHT, on=ON, gather=True)
        assert d.outcome is Outcome.REFER  # the penalties' text is not a list: never parsed
        assert "INVALID:credit.penalties" in d.codes
    text = offline_deployment(
        "sqlite:///credit.db", SQLITE_STATEMENT, "[untrustworthy]", SQLITE_JSON
    )
    deploy.write_text(text, encoding="utf-8")
    with Engine(snapshot=engine_over(RULES).snapshot, deployment=deploy) as e:
        d = e.decide(TALENT, BROUGHT, on=ON, gather=True)
        assert d.outcome is Outcome.APPROVE, d.codes
        assert d.provenance["education.level"].source == "degree-registry"
        assert d.provenance["applicant.name"].reference is None


def test_a_postgresql_source_through_the_engine(tmp_path, postgres):  # noqa: F811
    _files(tmp_path)
    dsn = postgres.create_database("credit_engine")
    postgres.psql(
        "CREATE TABLE credit (id_number text PRIMARY KEY, untrustworthy boolean, penalties jsonb)",
        f"INSERT INTO credit VALUES ('{ID}', false, '[]')",
        "GRANT SELECT ON credit TO PUBLIC",
        database="credit_engine",
    )
    del dsn
    url = postgres.url_of("credit_engine")
    statement = (
        "SELECT id_number, untrustworthy, penalties FROM credit WHERE id_number = %(id_number)s"
    )
    deploy = tmp_path / "deploy.yaml"
    text = offline_deployment(url, statement).replace(
        f'      database: "{url}"', f'      database: "{url}"\n      password: {{env: PG_PASSWORD}}'
    )
    deploy.write_text(text, encoding="utf-8")
    import os

    os.environ["PG_PASSWORD"] = postgres.password
    with Engine(snapshot=engine_over(RULES).snapshot, deployment=deploy) as e:
        d = e.decide(TALENT, BROUGHT, on=ON, gather=True)
        assert d.outcome is Outcome.APPROVE, d.codes
        assert d.provenance["credit.untrustworthy"].source == "credit-platform"
        other = {**BROUGHT, "applicant": {"id_number": "440304199508302187"}}
        assert "NOT_FOUND:credit-platform" in e.decide(TALENT, other, on=ON, gather=True).codes


# ---- the deployment file's own problems ----
def test_problems_of_a_deployment_file_name_file_line_and_field(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_VARIABLE", raising=False)
    deploy = tmp_path / "deploy.yaml"
    deploy.write_text(
        """sources:
  public-security:
    adapter: http-json
    lookups:
      - key: {id_number: applicant.id_number}
        facts: {applicant.name: name}
    settings:
      url: "http://${NO_SUCH_VARIABLE}/p/{id_number}"
  credit-platform:
    adapter: no-such-adapter
    lookups:
      - key: {id_number: applicant.id_number}
        facts: {credit.untrustworthy: untrustworthy}
""",
        encoding="utf-8",
    )
    with pytest.raises(DeploymentError) as err:
        load_deployment(deploy)
    text = str(err.value)
    assert f"{deploy}:8" in text
    assert "NO_SUCH_VARIABLE is not set" in text


def test_an_unknown_adapter_and_bad_settings_are_located(tmp_path):
    text = """sources:
  public-security:
    adapter: http-json
    lookups:
      - key: {id_number: applicant.id_number}
        facts: {applicant.name: name}
    settings: {url: "ftp://x/{id_number}", retries: 9}
  credit-platform:
    adapter: no-such-adapter
    lookups:
      - key: {id_number: applicant.id_number}
        facts: {credit.untrustworthy: untrustworthy}
"""
    with pytest.raises(DeploymentError) as err:
        parse_deployment(text, "deploy.yaml")
    message = str(err.value)
    assert "deploy.yaml:7" in message  # the settings of public-security
    assert "retries" in message
    assert "deploy.yaml:9" in message
    assert "no adapter 'no-such-adapter' is installed" in message
    assert "http-json" in message  # the installed ones are listed


def test_a_literal_secret_is_refused_and_one_from_the_environment_taken(monkeypatch):
    text = """sources:
  public-security:
    adapter: http-json
    lookups:
      - key: {id_number: applicant.id_number}
        facts: {applicant.name: name}
    settings: {url: "http://127.0.0.1:1/p/{id_number}", token: TOKEN}
"""
    with pytest.raises(DeploymentError, match="never written in the file"):
        parse_deployment(text.replace("TOKEN", "s3cr3t"), "deploy.yaml")
    monkeypatch.setenv("POPULATION_TOKEN", "from-the-environment")
    for given in ('"${POPULATION_TOKEN}"', "{env: POPULATION_TOKEN}"):
        deployment = parse_deployment(text.replace("TOKEN", given), "deploy.yaml")
        settings: Any = deployment.connections["public-security"].settings
        assert settings.token.get_secret_value() == "from-the-environment"
        assert "from-the-environment" not in repr(settings)


def test_a_key_the_adapter_does_not_fill_is_refused():
    text = """sources:
  credit-platform:
    adapter: http-json
    lookups:
      - key: {number: applicant.id_number}
        facts: {credit.untrustworthy: untrustworthy}
    settings: {url: "http://127.0.0.1:1/p/{id_number}"}
"""
    with pytest.raises(DeploymentError, match="need id_number from the key"):
        parse_deployment(text, "deploy.yaml")


# ---- the command line ----
def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secondapproval", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_the_cli_decides_gathering_and_reports_the_deployment(tmp_path):
    _files(tmp_path)
    deploy = tmp_path / "deploy.yaml"
    text = offline_deployment(
        "sqlite:///credit.db", SQLITE_STATEMENT, "[untrustworthy]", SQLITE_JSON
    )
    deploy.write_text(text, encoding="utf-8")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(BROUGHT), encoding="utf-8")
    rules = str(RULES)
    checked = _cli("check", rules, "--deployment", str(deploy), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    report = _cli("sources", "--rules", rules, "--deployment", str(deploy), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "connected: table" in report.stdout
    assert "vouched" in report.stdout
    args = ("decide", TALENT, str(facts), "--rules", rules, "--on", "2019-09-01", "--json")
    decided = _cli(*args, "--deployment", str(deploy), cwd=tmp_path)
    assert decided.returncode == 0, decided.stderr
    doc = json.loads(decided.stdout)
    assert doc["outcome"] == "approve", doc["reasons"]
    assert doc["provenance"]["credit.untrustworthy"]["via"] == "adapter"
    plain = json.loads(_cli(*args, cwd=tmp_path).stdout)
    assert plain["outcome"] == "refer"  # no deployment, no vouching: nothing is believed


def test_check_reports_a_deployment_that_does_not_fit_the_rules(tmp_path):
    deploy = tmp_path / "deploy.yaml"
    deploy.write_text(
        """sources:
  credit-platform:
    adapter: table
    lookups:
      - key: {id_number: applicant.id_number}
        facts: {credit.score: score}
    settings: {path: credit.jsonl, key: [id_number]}
""",
        encoding="utf-8",
    )
    (tmp_path / "credit.jsonl").write_text("", encoding="utf-8")
    checked = _cli("check", str(RULES), "--deployment", str(deploy), cwd=tmp_path)
    assert checked.returncode == 1
    assert f"{deploy}:6" in checked.stderr
    assert "credit.score is not a fact of any matter" in checked.stderr


def test_a_toml_deployment_file_reads_the_same(tmp_path):
    _files(tmp_path)
    toml = tmp_path / "deploy.toml"
    toml.write_text(
        """vouch = ["graduate-employment", "criminal-records", "civil-affairs", "health-commission"]

[sources.credit-platform]
adapter = "sql"
timeout = 2

[[sources.credit-platform.lookups]]
key = {id_number = "applicant.id_number"}
facts = {"credit.untrustworthy" = "untrustworthy"}

[sources.credit-platform.settings]
database = "sqlite:///credit.db"
statement = "SELECT id_number, untrustworthy FROM credit WHERE id_number = :id_number"
booleans = ["untrustworthy"]
""",
        encoding="utf-8",
    )
    deployment = load_deployment(toml)
    assert deployment.connected == {"credit-platform"}
    assert deployment.vouch[0] == "graduate-employment"
    toml.write_text("vouch = [", encoding="utf-8")
    with pytest.raises(DeploymentError, match="TOML syntax"):
        load_deployment(toml)
