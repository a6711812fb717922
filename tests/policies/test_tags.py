"""Field sensitivity tags drive the decision: tagged immigration-sensitive fields (IM-05) and an
agreement purpose's ``exclude_tags``. Tags come from the caller, never the request, and only remove."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.model import PolicySet
from policies.services import decide, policy_set_load
from policies.tags import tagged_out
from policies.types import FIELD_KINDS, Decision, Effect, FieldTag, ReasonCode
from tests.policies.conftest import LIBRARY, POLICE_REQUEST, VENDOR_REQUEST, request_with
from tests.policies.test_properties import KEYS, _paths

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TAGS = [str(tag) for tag in FieldTag]
BUILT_IN_IMMIGRATION_SENSITIVE = {"person.address", "person.zip", "released_at", "custody_status"}
# The tags as the gateway seeds them (gateway/migrations/0002_field_sensitivity_tags.py), abridged.
SEEDED: dict[str, list[str]] = {
    "person.sex": ["quasi_identifier", "protected_trait"],
    "person.race": ["quasi_identifier", "protected_trait"],
    "person.ethnicity": ["quasi_identifier", "protected_trait"],
    "person.address": ["direct_identifier", "immigration_sensitive"],
    "charges.bond_amount": [],
    "booking_agency": [],
}
ACTIVE_TEMPLATE = (
    (LIBRARY / "vendor-records-for-licences.yaml")
    .read_text()
    .replace("status: draft", "status: active")
    .replace("approval_reference: null", 'approval_reference: "Res. 26-001 (test)"')
)
DHS_COURT_MATTERS = (
    (LIBRARY / "courts.yaml")
    .read_text()
    .replace("id: courts", "id: dhs-court-matters")
    .replace("type: court", "type: federal_immigration")
)
WARRANT = {"kind": "judicial_warrant", "signed_by_judge": True, "verified_by": ["ann", "bo"]}
COURT = request_with(
    POLICE_REQUEST,
    recipient={"type": "court", "name": "Circuit Court"},
    purpose="court.proceedings",
    case_number="2026CF001234",
)
DHS = request_with(
    COURT, recipient={"type": "federal_immigration", "name": "Field Office 7"}, documents=[WARRANT]
)


def _load(tmp: Path, files: Mapping[str, str]) -> PolicySet:
    for name, text in files.items():
        (tmp / name).write_text(text)
    policy_set = policy_set_load(dirs=[LIBRARY, tmp])
    assert policy_set.valid, policy_set.problems
    return policy_set


@pytest.fixture(scope="module")
def tagged_set(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    """The shipped library plus the vendor template as approved and a county DHS agreement."""
    tmp = tmp_path_factory.mktemp("tagged")
    return _load(tmp, {"vendor.yaml": ACTIVE_TEMPLATE, "dhs.yaml": DHS_COURT_MATTERS})


def _courts_excluding(tags: Sequence[str]) -> str:
    text = (LIBRARY / "courts.yaml").read_text()
    return text.replace("    fields:\n", f"    exclude_tags: [{', '.join(tags)}]\n    fields:\n")


@pytest.fixture(scope="module")
def courts_excluding(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., PolicySet]:
    """Policy sets whose courts agreement excludes the given tags, loaded from YAML once each."""
    cache: dict[tuple[str, ...], PolicySet] = {}

    def get(tags: Sequence[str]) -> PolicySet:
        key = tuple(sorted(tags))
        if key not in cache:
            tmp = tmp_path_factory.mktemp("courts")
            cache[key] = _load(tmp, {"courts.yaml": _courts_excluding(key)})
        return cache[key]

    return get


def _decide(
    request: dict[str, Any], policy_set: PolicySet, tags: Any, *, proxy_registered: bool = False
) -> Decision:
    return decide(
        request=request,
        policy_set=policy_set,
        keys=KEYS,
        now=NOW,
        field_tags=tags,
        proxy_registered=proxy_registered,
    )


def _permitted_or_nothing_left(decision: Decision) -> bool:
    """A permit, or a deny only because no requested field survives (never a release of {})."""
    if decision.permitted:
        return True
    return [r.code for r in decision.reasons] == [ReasonCode.DENY_NO_FIELDS_RELEASABLE]


# --- table -------------------------------------------------------------------------------------

TABLE: list[tuple[str, dict[str, Any], Any, set[str], set[str]]] = [
    # (name, request, field_tags, paths that must be released, paths that must not)
    (
        "immigration: built-in set applies without tags",
        DHS,
        None,
        {"charges.bond_amount", "person.race"},
        BUILT_IN_IMMIGRATION_SENSITIVE,
    ),
    (
        "immigration: a tagged field joins the set",
        DHS,
        {"charges.bond_amount": ["immigration_sensitive"]},
        {"person.race", "booking_number"},
        {"charges.bond_amount", *BUILT_IN_IMMIGRATION_SENSITIVE},
    ),
    (
        "immigration: a bare string is one tag",
        DHS,
        {"charges.bond_amount": "immigration_sensitive"},
        {"charges.statute"},
        {"charges.bond_amount"},
    ),
    (
        "immigration: a tagged section takes all its fields",
        DHS,
        {"person": ["immigration_sensitive"]},
        {"booking_number", "charges.statute"},
        {"person.first_name", "person.race", "person.ssn"},
    ),
    (
        "immigration: removing every tag keeps the built-in set",
        DHS,
        {},
        {"charges.bond_amount"},
        BUILT_IN_IMMIGRATION_SENSITIVE,
    ),
    (
        "immigration: other tags do not matter without exclude_tags",
        DHS,
        {"person.race": ["protected_trait"], "person.sex": ["direct_identifier"]},
        {"person.race", "person.sex"},
        set(),
    ),
    (
        "court: an immigration tag does not touch a request not involving immigration",
        COURT,
        {"charges.bond_amount": ["immigration_sensitive"]},
        {"charges.bond_amount", "person.address", "released_at"},
        set(),
    ),
    (
        "police: protected traits stay without exclude_tags",
        POLICE_REQUEST,
        SEEDED,
        {"person.race", "person.sex"},
        set(),
    ),
    (
        "vendor template: protected traits are excluded",
        VENDOR_REQUEST,
        SEEDED,
        {"person.date_of_birth", "booking_number"},
        {"person.race", "person.sex"},
    ),
    (
        "vendor template: the county untagged them, so the allow-list applies",
        VENDOR_REQUEST,
        {},
        {"person.race", "person.sex"},
        set(),
    ),
    (
        "vendor: immigration-sensitive tags leave vendor exports too (IM-05)",
        VENDOR_REQUEST,
        {**SEEDED, "booking_agency": ["immigration_sensitive"]},
        {"booking_number"},
        {"booking_agency", "person.race"},
    ),
]


@pytest.mark.parametrize(
    ("request_", "tags", "present", "absent"),
    [case[1:] for case in TABLE],
    ids=[case[0] for case in TABLE],
)
def test_tags_table(request_, tags, present, absent, tagged_set) -> None:
    decision = _decide(request_, tagged_set, tags)
    assert decision.effect is Effect.PERMIT, decision.reasons
    released = _paths(decision.released[0])
    assert present <= released
    assert not absent & released
    assert not absent & set(decision.obligations.fields)


def test_the_request_cannot_untag_a_field(tagged_set) -> None:
    forged = request_with(DHS, field_tags={"charges.bond_amount": []})
    decision = _decide(forged, tagged_set, {"charges.bond_amount": ["immigration_sensitive"]})
    assert decision.effect is Effect.PERMIT
    assert "charges.bond_amount" not in _paths(decision.released[0])


def test_exclude_tags_without_any_tags_fails_closed(tagged_set) -> None:
    decision = _decide(VENDOR_REQUEST, tagged_set, None)
    assert decision.effect is Effect.DENY
    assert [r.code for r in decision.reasons] == [ReasonCode.DENY_FIELD_TAGS_MISSING]
    assert decision.reasons[0].rule == "IM-09"
    assert "protected_trait" in decision.reasons[0].message
    assert decision.released == ()


@pytest.mark.parametrize("tags", [{"person.race": 5}, {"person.race": None}, ["person.race"]])
def test_unreadable_tags_deny(tags, tagged_set) -> None:
    decision = _decide(VENDOR_REQUEST, tagged_set, tags)
    assert decision.effect is Effect.DENY
    assert decision.reasons[0].code is ReasonCode.DENY_ENGINE_ERROR


def test_tags_are_not_read_where_nothing_depends_on_them(tagged_set) -> None:
    """A police request is neither immigration-involved nor excluding by tag: tags cannot matter."""
    assert _decide(POLICE_REQUEST, tagged_set, {"person.race": 5}).permitted


def test_tagged_out_is_sorted_and_only_asked_tags_count() -> None:
    tags = {"b": ["protected_trait"], "a": ["protected_trait", "x"], "c": ["direct_identifier"]}
    assert tagged_out(tags, exclude=frozenset({"protected_trait"}), immigration=False) == ("a", "b")
    assert tagged_out(tags, exclude=frozenset(), immigration=False) == ()
    assert tagged_out(None, exclude=frozenset({"protected_trait"}), immigration=True) == ()


def test_exclude_tags_load_and_unknown_tags_are_errors_with_file_and_line(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    loaded = _load(
        good, {"courts.yaml": _courts_excluding(["protected_trait", "direct_identifier"])}
    )
    courts = next(a for a in loaded.agreements if a.id == "courts")
    assert courts.purposes[0].exclude_tags == {"protected_trait", "direct_identifier"}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "courts.yaml").write_text(
        _courts_excluding(["protected_trait"]).replace(
            "exclude_tags: [protected_trait]",
            "exclude_tags:\n      - protected_trait\n      - protected_traits",
        )
    )
    problems = policy_set_load(dirs=[LIBRARY, bad]).problems
    line = (bad / "courts.yaml").read_text().splitlines().index("      - protected_traits") + 1
    assert any(
        p.startswith(f"{bad / 'courts.yaml'}:{line}:") and "'protected_traits' is not one of" in p
        for p in problems
    ), problems
    (bad / "courts.yaml").write_text(_courts_excluding(["protected_trait", "protected_trait"]))
    assert any("non-unique" in p for p in policy_set_load(dirs=[LIBRARY, bad]).problems)


# --- properties --------------------------------------------------------------------------------

PATHS = sorted(FIELD_KINDS)
field_tags = st.dictionaries(
    st.sampled_from([*PATHS, "person", "charges", "mugshot"]),
    st.lists(st.sampled_from([*TAGS, "unknown_tag"]), max_size=3),
    max_size=12,
)
requested = st.one_of(
    st.none(), st.lists(st.sampled_from([*PATHS, "person", "charges"]), min_size=1)
)


def _tagged(tags: Mapping[str, Sequence[str]], path: str, wanted: set[str]) -> bool:
    """Independent oracle: the field, or its section, carries one of ``wanted``."""
    section = path.split(".")[0]
    return any(bool(wanted & set(tags.get(name, ()))) for name in {path, section})


@PROPERTY_SETTINGS
@given(tags=field_tags, fields=requested, behalf=st.booleans())
def test_immigration_sensitive_tagged_fields_never_reach_an_immigration_request(
    tags, fields, behalf, tagged_set
) -> None:
    request = request_with(DHS, fields=fields)
    if behalf:  # the same agency, now naming DHS as its principal: still immigration-involved
        request["on_behalf_of"] = copy.deepcopy(DHS["recipient"])
    decision = _decide(request, tagged_set, tags, proxy_registered=behalf)
    # The property is not passing because nothing leaves: only an emptied selection may deny.
    assert _permitted_or_nothing_left(decision), decision.reasons
    for record in decision.released:
        for path in _paths(record):
            assert not _tagged(tags, path, {"immigration_sensitive"}), path
            assert path not in BUILT_IN_IMMIGRATION_SENSITIVE


@PROPERTY_SETTINGS
@given(
    exclude=st.lists(st.sampled_from(TAGS), min_size=1, max_size=4, unique=True),
    tags=field_tags,
    fields=requested,
)
def test_fields_with_an_excluded_tag_never_appear(exclude, tags, fields, courts_excluding) -> None:
    decision = _decide(request_with(COURT, fields=fields), courts_excluding(exclude), tags)
    assert _permitted_or_nothing_left(decision), decision.reasons
    for record in decision.released:
        for path in _paths(record):
            assert not _tagged(tags, path, set(exclude)), path


@PROPERTY_SETTINGS
@given(
    tags=field_tags,
    which=st.sampled_from([DHS, COURT, POLICE_REQUEST, VENDOR_REQUEST]),
    fields=requested,
)
def test_tags_never_widen_a_release(tags, which, fields, tagged_set) -> None:
    request = request_with(which, fields=fields)
    untagged = _decide(request, tagged_set, {})
    tagged = _decide(request, tagged_set, tags)
    if tagged.permitted:
        assert untagged.permitted
        assert set(tagged.obligations.fields) <= set(untagged.obligations.fields)
        for narrow, wide in zip(tagged.released, untagged.released, strict=True):
            assert _paths(narrow) <= _paths(wide)
    assert len(tagged.released) <= len(untagged.released)
