"""Edge cases that keep the engine fail-closed at every branch (house style B6: 100% for policies)."""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
import yaml

from policies import transforms
from policies.exceptions import TokenRevealError
from policies.keys import KeyStore, key_file_create, key_file_rotate
from policies.loader import _line_of
from policies.rules import record_exclusion
from policies.services import decide, policy_set_get, policy_set_load, policy_tests_run
from policies.transforms import FieldRule, _generate, _simple, plan_compile, plan_get, token_decrypt
from policies.types import Effect, Op, ReasonCode
from tests.policies.conftest import (
    ADULT_RECORD,
    APPROVED_VENDOR,
    LIBRARY,
    POLICE_REQUEST,
    request_with,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BASELINE = (LIBRARY / "00-county-baseline.yaml").read_text()


def _library_copy(target: Path) -> Path:
    for path in LIBRARY.glob("*.yaml"):
        if not path.name.endswith("_test.yaml"):
            (target / path.name).write_text(path.read_text())
    return target


# ----------------------------------------------------------------------------------------- loader


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"- just\n- a list\n", "must be a mapping"),
        (b"kind: agreement\nid: \xff\xfe\n", "cannot read file"),
        (b"kind: nonsense\n", "kind must be one of"),
    ],
)
def test_unloadable_documents(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "x.yaml").write_bytes(content)
    problems = policy_set_load(dirs=[LIBRARY, tmp_path]).problems
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("shred", "unknown operator"),
        ("mask:x", "mask takes the number"),
        ("generalize:decade", "generalize target must be one of"),
    ],
)
def test_bad_field_specs(tmp_path: Path, spec: str, expected: str) -> None:
    (tmp_path / "v.yaml").write_text(
        APPROVED_VENDOR.replace("person.sex: keep", f"person.sex: {spec}")
    )
    problems = policy_set_load(dirs=[LIBRARY, tmp_path]).problems
    assert any(expected in problem for problem in problems), problems


def test_unreadable_policy_path_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere")
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    assert sum("cannot read file" in problem for problem in policy_set.problems) == 2
    assert not policy_set_get(dirs=[LIBRARY, tmp_path]).valid


def test_agreements_for_different_named_vendors_do_not_overlap(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(APPROVED_VENDOR)
    other = APPROVED_VENDOR.replace("id: vendor-records-for-licences", "id: other-vendor")
    (tmp_path / "b.yaml").write_text(other.replace("names: [Biometrica]", "names: [Acme]"))
    assert policy_set_load(dirs=[LIBRARY, tmp_path]).valid


def test_undefined_offense_list_is_a_problem(tmp_path: Path) -> None:
    _library_copy(tmp_path)
    (tmp_path / "00-county-baseline.yaml").write_text(
        BASELINE.replace("offense_list: violent", "offense_list: nonexistent")
    )
    problems = policy_set_load(dirs=[tmp_path]).problems
    assert any("'nonexistent' is not defined" in p for p in problems)


def test_line_lookup_stops_at_missing_steps() -> None:
    node = yaml.compose("a:\n  - 1\n  - 2\nb: x\n")
    assert _line_of(node, ["a", 1]) == 3
    assert _line_of(node, ["a", 7]) == 1
    assert _line_of(node, ["a", "x"]) == 1
    assert _line_of(node, ["zzz"]) == 1
    assert _line_of(None, ["a"]) == 1


def test_refused_catalog_purpose_is_denied(tmp_path: Path, keys: KeyStore) -> None:
    baseline = BASELINE.replace(
        "purposes:\n",
        "purposes:\n  surveillance:\n    description: Listed to be refused.\n    refused: true\n",
        1,
    )
    _library_copy(tmp_path)
    (tmp_path / "00-county-baseline.yaml").write_text(baseline)
    policy_set = policy_set_load(dirs=[tmp_path])
    assert policy_set.valid, policy_set.problems
    decision = decide(
        request=request_with(POLICE_REQUEST, purpose="surveillance"),
        policy_set=policy_set,
        keys=keys,
        now=NOW,
    )
    assert decision.effect is Effect.DENY
    assert "marked refused" in decision.reasons[0].message


# ------------------------------------------------------------------------------------------ rules


def test_a_set_without_keyword_pattern_still_decides(library_set, keys: KeyStore) -> None:
    bare = dataclasses.replace(library_set, keywords=None)
    request = request_with(POLICE_REQUEST, narrative=POLICE_REQUEST["narrative"] + " ICE")
    assert decide(request=request, policy_set=bare, keys=keys, now=NOW).permitted


@pytest.mark.parametrize(
    ("when", "denied"),
    [
        ("{recipient_types: [court]}", False),
        ("{recipient_types: [local_le], purposes: [court]}", False),
        ("{recipient_types: [local_le], purposes: [investigation]}", True),
        ("{modes: [batch]}", False),
        ("{modes: [single]}", True),
        ("{recipient_names: [someone else]}", False),
    ],
)
def test_forbid_conditions_must_all_match(tmp_path: Path, keys, when: str, denied: bool) -> None:
    (tmp_path / "f.yaml").write_text(
        f"kind: forbid\nid: f\nrule: GOV-05\ndescription: d\nwould_need: w\nwhen: {when}\n"
    )
    decision = decide(
        request=POLICE_REQUEST,
        policy_set=policy_set_load(dirs=[LIBRARY, tmp_path]),
        keys=keys,
        now=NOW,
    )
    assert (decision.effect is Effect.DENY) is denied


@pytest.mark.parametrize(
    "document",
    [
        {"kind": "judicial_warrant", "signed_by_judge": True, "verified_by": "clerk, officer"},
        {"kind": "judicial_warrant", "signed_by_judge": False, "verified_by": ["a", "b"]},
        {
            "kind": "judicial_warrant",
            "signed_by_judge": True,
            "verified_by": ["a", "b"],
            "form": "I-205",
        },
        {"kind": "judicial_warrant", "signed_by_judge": True, "verified_by": ["a", 7]},
    ],
)
def test_federal_documents_that_do_not_count(document, library_set, keys) -> None:
    request = request_with(
        POLICE_REQUEST,
        recipient={"type": "federal_le", "name": "FBI Milwaukee"},
        offense_statute="940.31",
        documents=[document],
    )
    decision = decide(request=request, policy_set=library_set, keys=keys, now=NOW)
    assert decision.effect is Effect.DENY
    assert {r.code for r in decision.reasons} & {
        ReasonCode.DENY_DOCUMENT_MISSING,
        ReasonCode.DENY_ADMINISTRATIVE_WARRANT,
    }


@pytest.mark.parametrize(
    ("changes", "exclude_nc", "expected"),
    [
        ({"person": {"date_of_birth": "1990-13-45"}}, False, None),
        ({"person": {"date_of_birth": "2015-01-01"}, "booked_at": "garbage-but-long"}, False, None),
        (
            {"charges": [{"disposition": "pending"}], "booked_at": "not a date"},
            True,
            "non_conviction",
        ),
        ({"charges": [{"disposition": "pending"}], "booked_at": "2026-05-01T00:00:00"}, True, None),
        ({"charges": ["convicted"]}, True, "non_conviction"),
        ({"charges": [{"disposition": "Guilty plea"}]}, True, None),
    ],
)
def test_record_edges(changes, exclude_nc, expected) -> None:
    record = request_with(ADULT_RECORD, **changes)
    assert record_exclusion(record, now=NOW, exclude_non_conviction=exclude_nc) == expected


# ------------------------------------------------------------------------------------- transforms


def test_pseudonym_memo_is_bounded(keys: KeyStore, monkeypatch) -> None:
    monkeypatch.setattr(transforms, "_MEMO_LIMIT", 2)
    plan = plan_compile(
        rules=[FieldRule("booking_number", Op.PSEUDONYM)],
        store=keys,
        recipient_key="r",
        purpose="p",
    )
    tokens = [plan.apply({"booking_number": f"B{i}"})["booking_number"] for i in range(5)]
    assert len(set(tokens)) == 5
    assert plan.apply({"booking_number": "B0"})["booking_number"] == tokens[0]


def test_plan_cache_is_bounded(keys: KeyStore) -> None:
    store = KeyStore(current="k1", keys={"k1": secrets.token_bytes(32)})
    rules = (FieldRule("booking_number", Op.KEEP),)
    for index in range(260):
        plan_get(rules=rules, store=store, recipient_key=f"r{index}", purpose="p")
    assert len(store.plans) <= 257


def test_non_tokens_are_refused(keys: KeyStore) -> None:
    with pytest.raises(TokenRevealError):
        token_decrypt(store=keys, token="ps:k1:abc", recipient_key="r", purpose="p", path="x")
    with pytest.raises(TokenRevealError):
        token_decrypt(store=keys, token="enc:k1:!!!", recipient_key="r", purpose="p", path="x")


def test_defensive_compiler_errors(keys: KeyStore) -> None:
    with pytest.raises(ValueError, match="cannot be compiled"):
        _simple(FieldRule("booking_number", Op.DROP), keys, "k1", "c")
    with pytest.raises(ValueError, match="not supported"):
        _simple(FieldRule("person.age", Op.GENERALIZE, "decade"), keys, "k1", "c")
    with pytest.raises(ValueError, match="unknown field"):
        _generate(top=[("__class__", None)], person=[], charges=[])


def test_tolerant_path_handles_odd_sections(keys: KeyStore) -> None:
    plan = plan_compile(
        rules=[FieldRule("person.sex", Op.KEEP), FieldRule("charges.level", Op.KEEP)],
        store=keys,
        recipient_key="r",
        purpose="p",
    )
    assert plan.apply({"person": "M", "charges": "felony"}) == {}
    assert plan.apply({"person": {}, "charges": [{}]}) == {"person": {}, "charges": [{}]}


@pytest.mark.parametrize(
    "person",
    [
        {"fbi_number": "F1"},
        {"last_name": "Doe", "first_name": "J", "date_of_birth": "1990-01-01"},
        {},
    ],
)
def test_date_shift_identity_fallbacks(person, keys: KeyStore) -> None:
    plan = plan_compile(
        rules=[
            FieldRule("booked_at", Op.DATE_SHIFT, 5),
            FieldRule("released_at", Op.DATE_SHIFT, 5),
        ],
        store=keys,
        recipient_key="r",
        purpose="p",
    )
    record = {
        "booking_number": "B1",
        "booked_at": "2026-05-04",
        "released_at": "later",
        "person": person,
    }
    out = plan.apply(record)
    assert out["released_at"] is None
    assert out["booked_at"] != "2026-05-04" or plan.apply(record)["booked_at"] == "2026-05-04"
    assert plan.apply(record) == out


# --------------------------------------------------------------------------------- test runner


def test_runner_reports_every_kind_of_mismatch(tmp_path: Path) -> None:
    _library_copy(tmp_path)
    case = {
        "name": "everything wrong",
        "expect": {
            "effect": "deny",
            "reasons": ["IM-01"],
            "absent_reasons": ["PERMIT_AGREEMENT"],
            "excluded": {"sealed": 3},
            "released": 5,
            "absent_fields": ["booking_number", "person.last_name"],
            "labels": ["NOT A LABEL"],
        },
    }
    defaults = json.loads(json.dumps(POLICE_REQUEST))
    (tmp_path / "bad_test.yaml").write_text(yaml.safe_dump({"defaults": defaults, "cases": [case]}))
    (tmp_path / "broken_test.yaml").write_text("defaults: {}\n")
    results = {r.name: r for r in policy_tests_run(dirs=[tmp_path])}
    assert all(not r.passed for r in policy_tests_run(dirs=[tmp_path, tmp_path / "absent"]))
    message = results["everything wrong"].message
    for fragment in (
        "effect permit",
        "missing reasons",
        "unexpected reasons",
        "excluded[sealed]",
        "1 released, expected 5",
        "field booking_number was released",
        "field person.last_name was released",
        "label 'NOT A LABEL' missing",
    ):
        assert fragment in message
    assert results["(file)"].passed is False


def test_command_reports_failures_and_bad_input(tmp_path: Path, monkeypatch) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "00-county-baseline.yaml").write_text(BASELINE)
    with pytest.raises(CommandError, match=r"no \*_test\.yaml"):
        call_command("policy", "test", "--dir", str(empty), stdout=StringIO())
    with pytest.raises(CommandError, match="cannot read request JSON"):
        call_command(
            "policy", "explain", "--dir", str(LIBRARY), "--request", str(tmp_path / "none")
        )
    keys_path = tmp_path / "k.json"
    key_file_create(path=keys_path)
    monkeypatch.setattr("sys.stdin", StringIO(json.dumps(POLICE_REQUEST)))
    out = StringIO()
    call_command(
        "policy",
        "explain",
        "--dir",
        str(LIBRARY),
        "--request",
        "-",
        "--keys",
        str(keys_path),
        stdout=out,
    )
    assert json.loads(out.getvalue())["effect"] == "permit"
    bad_keys = tmp_path / "bad.json"
    bad_keys.write_text("{}")
    with pytest.raises(CommandError):
        call_command("policy", "keys-init", str(bad_keys), "--if-missing", stdout=StringIO())


def test_rotation_skips_taken_ids(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    key_file_create(path=path, key_id="k2")
    assert key_file_rotate(path=path) == "k3"


def test_selection_memo_is_bounded(library_set, keys: KeyStore, monkeypatch) -> None:
    from policies import rules

    crowded = {("old", index): None for index in range(1025)}
    monkeypatch.setattr(rules, "_SELECTIONS", crowded)
    assert decide(request=POLICE_REQUEST, policy_set=library_set, keys=keys, now=NOW).permitted
    assert len(crowded) == 1
