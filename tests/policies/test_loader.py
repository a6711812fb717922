"""Loading and validating policy files: every problem named with file and line; invalid => deny all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policies.keys import KeyStore
from policies.services import decide, policy_set_get, policy_set_load
from policies.types import Effect, ReasonCode
from tests.policies.conftest import LIBRARY, POLICE_REQUEST

BAD_AGREEMENT = """kind: agreement
id: bad-one
description: broken on purpose
recipient: {type: local_le}
status: active
purposes:
  - code: investigation.felony
    modes: [single, watchlist]
    max_records: 0
    retention_days: 10
    fields:
      person.shoe_size: keep
"""


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    target = tmp_path / "library"
    shutil.copytree(LIBRARY, target)
    return target


def test_shipped_library_is_valid_and_versioned(library_set) -> None:
    assert library_set.problems == ()
    assert library_set.version.startswith("sha256:")
    assert len(library_set.version) == len("sha256:") + 64
    assert {a.id for a in library_set.agreements} >= {
        "local-police",
        "state-police",
        "federal-non-immigration",
        "courts",
        "defense-discovery",
        "vendor-records-for-licences",
    }


def test_every_problem_is_listed_with_file_and_line(tmp_path: Path, library_copy: Path) -> None:
    county = tmp_path / "county"
    county.mkdir()
    (county / "bad.yaml").write_text(BAD_AGREEMENT)
    policy_set = policy_set_load(dirs=[library_copy, county])
    text = "\n".join(policy_set.problems)
    assert not policy_set.valid
    assert f"{county / 'bad.yaml'}:8:" in text  # the watchlist mode line
    assert f"{county / 'bad.yaml'}:9:" in text  # max_records 0
    assert f"{county / 'bad.yaml'}:12:" in text  # unknown field
    assert len(policy_set.problems) >= 3


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("kind: forbid\nid: x\n  rule: [unclosed\n")
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    assert any("broken.yaml:3" in p and "YAML syntax error" in p for p in policy_set.problems)


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text(
        "kind: forbid\nid: dup\nrule: FR-04\nrule: FR-05\ndescription: d\nwould_need: w\n"
        "when: {modes: [batch]}\n"
    )
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    assert any("dup.yaml:4: duplicate key 'rule'" in p for p in policy_set.problems)


def test_invalid_policies_deny_every_request(tmp_path: Path, keys: KeyStore) -> None:
    (tmp_path / "bad.yaml").write_text(BAD_AGREEMENT)
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    decision = decide(request=POLICE_REQUEST, policy_set=policy_set, keys=keys)
    assert decision.effect is Effect.DENY
    assert decision.reasons[0].code is ReasonCode.DENY_POLICY_INVALID
    assert decision.released == ()


def test_missing_directory_and_missing_baseline_are_problems(tmp_path: Path) -> None:
    assert not policy_set_load(dirs=[tmp_path / "nowhere"]).valid
    empty = tmp_path / "empty"
    empty.mkdir()
    policy_set = policy_set_load(dirs=[empty])
    assert any("no baseline" in p for p in policy_set.problems)


def test_version_is_a_content_hash(library_copy: Path) -> None:
    first = policy_set_load(dirs=[library_copy]).version
    assert policy_set_load(dirs=[library_copy]).version == first
    path = library_copy / "courts.yaml"
    path.write_text(path.read_text().replace("max_records: 50", "max_records: 49"))
    assert policy_set_load(dirs=[library_copy]).version != first


def test_cached_loader_reloads_after_a_change(library_copy: Path) -> None:
    first = policy_set_get(dirs=[library_copy])
    assert policy_set_get(dirs=[library_copy]) is first
    path = library_copy / "courts.yaml"
    path.write_text(path.read_text() + "\n# changed\n")
    assert policy_set_get(dirs=[library_copy]).version != first.version


@pytest.mark.parametrize(
    ("needle", "replacement", "expected"),
    [
        ("code: vendor.algorithm-testing", "code: immigration.enforcement", "only to be refused"),
        ("code: vendor.algorithm-testing", "code: vendor.unknown", "not in the purpose catalog"),
        ("      person.sex: keep", "      person.address: keep", "immigration-sensitive"),
        ("booked_at: generalize:month", "booked_at: generalize:zip3", "cannot apply"),
        ("person.sex: keep", "person.sex: date_shift", "date_shift needs a date"),
    ],
)
def test_semantic_checks(tmp_path: Path, needle: str, replacement: str, expected: str) -> None:
    from tests.policies.conftest import APPROVED_VENDOR

    assert needle in APPROVED_VENDOR
    (tmp_path / "vendor.yaml").write_text(APPROVED_VENDOR.replace(needle, replacement))
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    assert any(expected in problem for problem in policy_set.problems), policy_set.problems


def test_overlapping_active_agreements_are_ambiguous(tmp_path: Path) -> None:
    clone = (LIBRARY / "local-police.yaml").read_text().replace("id: local-police", "id: lp-two")
    (tmp_path / "lp-two.yaml").write_text(clone)
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    assert any("both cover local_le" in problem for problem in policy_set.problems)


def test_county_file_with_same_id_replaces_the_template(county_set) -> None:
    vendor = next(a for a in county_set.agreements if a.id == "vendor-records-for-licences")
    assert vendor.status == "active"
    assert vendor.approval_reference


def test_non_conviction_needs_a_legal_basis(tmp_path: Path) -> None:
    from tests.policies.conftest import APPROVED_VENDOR

    text = APPROVED_VENDOR.replace(
        "    retention_days: 30\n", "    retention_days: 30\n    include_non_conviction: true\n"
    )
    (tmp_path / "vendor.yaml").write_text(text)
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    assert any("CJ-08" in problem for problem in policy_set.problems)


# --- contradictions: an agreement marked active that every request will deny ---------------


def _vendor(*, consideration: str, approval: str | None, status: str = "active") -> str:
    from tests.policies.conftest import APPROVED_VENDOR

    text = APPROVED_VENDOR.replace("consideration: money", f"consideration: {consideration}")
    text = text.replace("status: active", f"status: {status}")
    reference = '"County Board Res. 26-001 (test)"'
    return text.replace(f"approval_reference: {reference}", f"approval_reference: {approval}")


@pytest.mark.parametrize(
    ("consideration", "approval", "expected"),
    [
        ("in_kind_data", '"Res. 26-001"', ["trades data for in_kind_data", "FR-13"]),
        ("in_kind_services", '"Res. 26-001"', ["trades data for in_kind_services", "FR-13"]),
        ("money", "null", ["has no approval reference", "GOV-01"]),
    ],
)
def test_an_active_agreement_that_denies_everything_is_a_contradiction(
    tmp_path: Path, keys: KeyStore, consideration: str, approval: str, expected: list[str]
) -> None:
    from tests.policies.conftest import VENDOR_REQUEST

    (tmp_path / "vendor.yaml").write_text(_vendor(consideration=consideration, approval=approval))
    policy_set = policy_set_load(dirs=[LIBRARY, tmp_path])
    assert policy_set.valid  # it can only deny, so the rest of the set stays in force
    [contradiction] = policy_set.contradictions
    assert "agreement vendor-records-for-licences is active" in contradiction
    assert str(tmp_path / "vendor.yaml") in contradiction
    for fragment in expected:
        assert fragment in contradiction
    decision = decide(request=VENDOR_REQUEST, policy_set=policy_set, keys=keys)
    assert decision.effect is Effect.DENY  # the engine agrees: every request is denied


def test_both_standing_denials_are_reported(tmp_path: Path) -> None:
    (tmp_path / "vendor.yaml").write_text(_vendor(consideration="in_kind_data", approval="null"))
    assert len(policy_set_load(dirs=[LIBRARY, tmp_path]).contradictions) == 2


def test_a_draft_or_a_paid_approved_agreement_is_no_contradiction(tmp_path: Path) -> None:
    draft = tmp_path / "draft"
    draft.mkdir()
    (draft / "vendor.yaml").write_text(
        _vendor(consideration="in_kind_data", approval="null", status="draft")
    )
    assert policy_set_load(dirs=[LIBRARY, draft]).contradictions == ()
    paid = tmp_path / "paid"
    paid.mkdir()
    (paid / "vendor.yaml").write_text(_vendor(consideration="money", approval='"Res. 26-001"'))
    assert policy_set_load(dirs=[LIBRARY, paid]).contradictions == ()
    assert policy_set_load(dirs=[LIBRARY]).contradictions == ()
