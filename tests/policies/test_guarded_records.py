"""CJ-09: a guarded booking must weigh exactly as a booking that does not exist.

The gateway exports only the bookings it finds, so a missing number is a record absent from the
request; a sealed, juvenile, expunged or removed one is a record present but guarded. Whatever the
requester can see (effect, released records, labels, retention) must not tell the two apart.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.model import PolicySet
from policies.services import decide, policy_set_load
from policies.types import Decision, Effect, ReasonCode
from tests.policies.conftest import (
    ADULT_RECORD,
    APPROVED_VENDOR,
    LIBRARY,
    POLICE_REQUEST,
    VENDOR_REQUEST,
    request_with,
)
from tests.policies.test_properties import KEYS, NOW, PROPERTY_SETTINGS

COURT = request_with(
    POLICE_REQUEST,
    recipient={"type": "court", "name": "Milwaukee County Circuit Court", "ori": "WI040013J"},
    purpose="court.proceedings",
    case_number="2026CF001234",
)
FLAGS = ("juvenile", "sealed", "expunged", "removed")


def _record(number: str, **status: Any) -> dict[str, Any]:
    record = copy.deepcopy(ADULT_RECORD)
    record["booking_number"] = number
    record["status"] = {**dict.fromkeys(FLAGS, False), **status}
    return record


def _guarded(number: str, how: str) -> dict[str, Any]:
    if how in FLAGS:
        return _record(number, **{how: True})
    record = _record(number)
    if how == "under 17 at booking":
        record["person"]["date_of_birth"] = "2012-01-01"
    elif how == "no status":
        del record["status"]
    elif how == "non-conviction (vendor)":
        record["charges"] = [{"statute": "943.20", "disposition": "dismissed"}]
    return record


def _visible(decision: Decision) -> tuple[Any, ...]:
    """What a requester can learn from a decision (the gateway answers with no more than this)."""
    return (
        decision.effect,
        decision.released,
        decision.obligations.labels,
        decision.obligations.retention_days,
        [(r.code, r.message) for r in decision.reasons],
    )


@pytest.mark.parametrize("how", [*FLAGS, "under 17 at booking", "no status"])
def test_fifty_released_plus_one_guarded_answers_as_fifty_plus_one_missing(
    how: str, library_set: PolicySet
) -> None:
    """The reported defect: the court's limit is 50, and the 51st (sealed) number was counted."""
    released = [_record(f"B{index}") for index in range(50)]
    missing = decide(
        request=request_with(COURT, records=released), policy_set=library_set, keys=KEYS, now=NOW
    )
    guarded = decide(
        request=request_with(COURT, records=[*released, _guarded("B-51", how)]),
        policy_set=library_set,
        keys=KEYS,
        now=NOW,
    )
    assert missing.effect is Effect.PERMIT
    assert len(missing.released) == 50
    assert _visible(guarded) == _visible(missing)
    assert sum(guarded.excluded.values()) == 1  # the true reason stays for compliance eyes


def test_the_limit_still_counts_releasable_records(library_set: PolicySet) -> None:
    request = request_with(COURT, records=[_record(f"B{index}") for index in range(51)])
    decision = decide(request=request, policy_set=library_set, keys=KEYS, now=NOW)
    assert [r.code for r in decision.reasons] == [ReasonCode.DENY_TOO_MANY_RECORDS]
    assert "51 releasable records requested" in decision.reasons[0].message


@pytest.fixture(scope="module")
def small_limits(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    """Library and an approved vendor with every limit at 3, so the limit is easy to reach."""
    tmp = tmp_path_factory.mktemp("small-limits")
    (tmp / "vendor.yaml").write_text(
        APPROVED_VENDOR.replace("max_records: 100000", "max_records: 3")
    )
    for name in ("courts.yaml", "local-police.yaml"):
        text = (LIBRARY / name).read_text()
        for limit in ("max_records: 50", "max_records: 25"):
            text = text.replace(limit, "max_records: 3")
        (tmp / name).write_text(text)
    policy_set = policy_set_load(dirs=[LIBRARY, tmp])
    assert policy_set.valid, policy_set.problems
    return policy_set


GUARDS = [*FLAGS, "under 17 at booking", "no status", "non-conviction (vendor)"]


@PROPERTY_SETTINGS
@given(
    template=st.sampled_from(["court", "police", "vendor"]),
    releasable=st.integers(min_value=0, max_value=5),
    guards=st.lists(st.sampled_from(GUARDS), min_size=1, max_size=4),
    positions=st.lists(st.integers(min_value=0, max_value=9), min_size=4, max_size=4),
    reviewed_by=st.sampled_from([None, "compliance.officer"]),
    fields=st.sampled_from([None, ["booking_number"], ["person"], ["status"]]),
    narrative=st.sampled_from([POLICE_REQUEST["narrative"], "ICE asked for him. " * 4]),
)
def test_swapping_a_missing_number_for_a_guarded_one_changes_nothing_visible(
    template, releasable, guards, positions, reviewed_by, fields, narrative, small_limits
) -> None:
    base = {"court": COURT, "police": POLICE_REQUEST, "vendor": VENDOR_REQUEST}[template]
    records = [_record(f"B{index}") for index in range(releasable)]
    with_guarded = list(records)
    if template != "vendor":  # a non-conviction booking is releasable to criminal justice (CJ-08)
        guards = ["sealed" if how.startswith("non-conviction") else how for how in guards]
    for index, how in enumerate(guards):
        with_guarded.insert(positions[index] % (len(with_guarded) + 1), _guarded(f"G{index}", how))

    def visible(recs: list[dict[str, Any]]) -> tuple[Any, ...]:
        request = request_with(base, records=recs, fields=fields, narrative=narrative)
        decision = decide(
            request=request, policy_set=small_limits, keys=KEYS, now=NOW, reviewed_by=reviewed_by
        )
        return _visible(decision)

    assert visible(with_guarded) == visible(records)


def test_the_property_reaches_both_sides_of_the_limit(small_limits: PolicySet) -> None:
    """Guards the property above against passing only because everything is denied (or not)."""
    three = request_with(COURT, records=[_record(f"B{index}") for index in range(3)])
    four = request_with(COURT, records=[_record(f"B{index}") for index in range(4)])
    assert decide(request=three, policy_set=small_limits, keys=KEYS, now=NOW).permitted
    denied = decide(request=four, policy_set=small_limits, keys=KEYS, now=NOW)
    assert [r.code for r in denied.reasons] == [ReasonCode.DENY_TOO_MANY_RECORDS]
