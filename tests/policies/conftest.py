"""Fixtures for the policy engine tests: the shipped library, a random key store, request builders."""

from __future__ import annotations

import copy
import secrets
from pathlib import Path
from typing import Any

import pytest

from policies.examples import EXAMPLE_POLICE_REQUEST, EXAMPLE_RECORD
from policies.keys import KeyStore
from policies.model import PolicySet
from policies.services import policy_set_load

LIBRARY = Path(__file__).resolve().parents[2] / "policies" / "library"

# Deep copies of the shared example, so no test can change another's starting point.
ADULT_RECORD: dict[str, Any] = copy.deepcopy(EXAMPLE_RECORD)
POLICE_REQUEST: dict[str, Any] = {
    **copy.deepcopy(EXAMPLE_POLICE_REQUEST),
    "records": [ADULT_RECORD],
}

APPROVED_VENDOR = """
kind: agreement
id: vendor-records-for-licences
description: Approved copy of the vendor template (county override used by the tests).
recipient: {type: vendor, names: [Biometrica]}
status: active
approval_reference: "County Board Res. 26-001 (test)"
consideration: money
purposes:
  - code: vendor.algorithm-testing
    modes: [single, batch]
    max_records: 100000
    retention_days: 30
    labels: [NO IMMIGRATION USE OR RE-DISCLOSURE (IM-03)]
    fields:
      booking_number: pseudonym
      booked_at: generalize:month
      booking_agency: keep
      person.date_of_birth: generalize:year
      person.age: generalize:band:10
      person.sex: keep
      person.race: keep
      person.state_id: pseudonym
      charges.statute: keep
      charges.level: keep
      charges.disposition: keep
"""

VENDOR_REQUEST: dict[str, Any] = {
    "recipient": {"type": "vendor", "name": "Biometrica"},
    "on_behalf_of": None,
    "purpose": "vendor.algorithm-testing",
    "mode": "batch",
    "documents": [],
    "records": [ADULT_RECORD],
}


def request_with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Deep copy of ``base`` with top-level keys replaced."""
    request = copy.deepcopy(base)
    request.update(copy.deepcopy(changes))
    return request


@pytest.fixture(scope="session")
def library_set() -> PolicySet:
    policy_set = policy_set_load(dirs=[LIBRARY])
    assert policy_set.valid, policy_set.problems
    return policy_set


@pytest.fixture(scope="session")
def county_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("county")
    (directory / "vendor-approved.yaml").write_text(APPROVED_VENDOR)
    return directory


@pytest.fixture(scope="session")
def county_set(county_dir: Path) -> PolicySet:
    policy_set = policy_set_load(dirs=[LIBRARY, county_dir])
    assert policy_set.valid, policy_set.problems
    return policy_set


@pytest.fixture(scope="session")
def keys() -> KeyStore:
    return KeyStore(current="k1", keys={"k1": secrets.token_bytes(32)})
