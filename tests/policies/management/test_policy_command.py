"""``manage.py policy`` subcommands through ``call_command``."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.policies.conftest import LIBRARY, POLICE_REQUEST


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("policy", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_validate_ok() -> None:
    out, _ = _run("validate", "--dir", str(LIBRARY))
    assert out.startswith("OK sha256:")


def test_validate_lists_every_problem_and_fails(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: agreement\nid: a\n")
    (tmp_path / "b.yaml").write_text("kind: nonsense\n")
    err = StringIO()
    with pytest.raises(CommandError, match="policy problem"):
        call_command(
            "policy", "validate", "--dir", str(LIBRARY), "--dir", str(tmp_path), stderr=err
        )
    assert "a.yaml:1" in err.getvalue()
    assert "b.yaml:1: kind must be one of" in err.getvalue()


def test_policy_test_runs_the_shipped_cases() -> None:
    out, _ = _run("test", "--dir", str(LIBRARY))
    assert "FAIL" not in out
    assert "policy test case(s) passed" in out


def test_policy_test_fails_on_a_failing_case(tmp_path: Path) -> None:
    for path in LIBRARY.glob("*.yaml"):
        if not path.name.endswith("_test.yaml"):
            (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "x_test.yaml").write_text(
        "defaults: {}\ncases:\n  - name: empty request permitted?\n    expect: {effect: permit}\n"
    )
    with pytest.raises(CommandError, match="1 of 1"):
        _run("test", "--dir", str(tmp_path))


def test_explain_prints_the_decision_json(tmp_path: Path, settings) -> None:
    settings.POLICY_KEYS_FILE = tmp_path / "keys.json"
    _run("keys-init")
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(POLICE_REQUEST))
    out, _ = _run("explain", "--dir", str(LIBRARY), "--request", str(request_file))
    decision = json.loads(out)
    assert decision["effect"] == "permit"
    assert decision["released"][0]["booking_number"] == "B2026-000123"
    assert decision["policy_version"].startswith("sha256:")


def test_explain_without_keys_denies(tmp_path: Path) -> None:
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(POLICE_REQUEST))
    out, err = _run(
        "explain",
        "--dir",
        str(LIBRARY),
        "--request",
        str(request_file),
        "--keys",
        str(tmp_path / "none"),
    )
    assert json.loads(out)["effect"] == "deny"
    assert "warning" in err


def test_keys_init_is_idempotent_with_if_missing_and_rotate(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    out, _ = _run("keys-init", str(path))
    assert "k1" in out
    first = path.read_text()
    out, _ = _run("keys-init", str(path), "--if-missing")
    assert "left unchanged" in out
    assert path.read_text() == first
    with pytest.raises(CommandError):
        _run("keys-init", str(path))
    out, _ = _run("keys-rotate", str(path))
    assert "k2" in out
    assert json.loads(path.read_text())["current"] == "k2"


def test_explain_reads_field_tags_from_a_file(tmp_path: Path, settings) -> None:
    from tests.policies.conftest import VENDOR_REQUEST
    from tests.policies.test_tags import ACTIVE_TEMPLATE, SEEDED

    settings.POLICY_KEYS_FILE = tmp_path / "keys.json"
    _run("keys-init")
    county = tmp_path / "county"
    county.mkdir()
    (county / "vendor.yaml").write_text(ACTIVE_TEMPLATE)
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(VENDOR_REQUEST))
    tags_file = tmp_path / "tags.json"
    tags_file.write_text(json.dumps(SEEDED))
    base = ["explain", "--dir", str(LIBRARY), "--dir", str(county), "--request", str(request_file)]
    with_tags = json.loads(_run(*base, "--tags", str(tags_file))[0])
    assert with_tags["effect"] == "permit"
    assert "race" not in with_tags["released"][0]["person"]
    assert with_tags["released"][0]["person"]["date_of_birth"] == "1990"
    without = json.loads(_run(*base)[0])
    assert without["effect"] == "deny"
    assert [r["code"] for r in without["reasons"]] == ["DENY_FIELD_TAGS_MISSING"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read field tags JSON"),
        ('["person.race"]', "must map each field path"),
        ('{"person.race": "protected_trait"}', "must map each field path"),
        ('{"person.race": [1]}', "must map each field path"),
    ],
)
def test_explain_rejects_a_bad_tags_file(tmp_path: Path, content: str, message: str) -> None:
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(POLICE_REQUEST))
    tags_file = tmp_path / "tags.json"
    tags_file.write_text(content)
    args = ["explain", "--dir", str(LIBRARY), "--request", str(request_file)]
    with pytest.raises(CommandError, match=message):
        _run(*args, "--tags", str(tags_file))
    with pytest.raises(CommandError, match="cannot read field tags JSON"):
        _run(*args, "--tags", str(tmp_path / "absent.json"))


def test_validate_fails_on_an_active_agreement_every_request_denies(tmp_path: Path) -> None:
    from tests.policies.conftest import APPROVED_VENDOR

    (tmp_path / "vendor.yaml").write_text(
        APPROVED_VENDOR.replace("consideration: money", "consideration: in_kind_data")
    )
    err = StringIO()
    with pytest.raises(CommandError, match="1 contradiction"):
        call_command(
            "policy", "validate", "--dir", str(LIBRARY), "--dir", str(tmp_path), stderr=err
        )
    assert "agreement vendor-records-for-licences is active" in err.getvalue()
    assert "in_kind_data" in err.getvalue()
    assert "FR-13" in err.getvalue()


def test_validate_lists_contradictions_beside_problems(tmp_path: Path) -> None:
    from tests.policies.conftest import APPROVED_VENDOR

    (tmp_path / "vendor.yaml").write_text(
        APPROVED_VENDOR.replace("consideration: money", "consideration: in_kind_data")
    )
    (tmp_path / "b.yaml").write_text("kind: nonsense\n")
    err = StringIO()
    with pytest.raises(CommandError, match="policy problem"):
        call_command(
            "policy", "validate", "--dir", str(LIBRARY), "--dir", str(tmp_path), stderr=err
        )
    assert "contradiction:" in err.getvalue()


def test_explain_can_take_the_proxy_as_registered(tmp_path: Path, settings) -> None:
    settings.POLICY_KEYS_FILE = tmp_path / "keys.json"
    _run("keys-init")
    request = dict(POLICE_REQUEST, on_behalf_of={"type": "state_le", "name": "State Patrol"})
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request))
    out, _ = _run("explain", "--dir", str(LIBRARY), "--request", str(request_file))
    assert json.loads(out)["effect"] == "review"
    out, _ = _run(
        "explain", "--dir", str(LIBRARY), "--request", str(request_file), "--proxy-registered"
    )
    assert json.loads(out)["effect"] == "permit"
