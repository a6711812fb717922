"""Fixtures for the policy engine tests: the shipped library, a random key store, request builders."""

from __future__ import annotations

import copy
import secrets
from pathlib import Path
from typing import Any

import pytest

from policies.keys import KeyStore
from policies.model import PolicySet
from policies.services import policy_set_load

LIBRARY = Path(__file__).resolve().parents[2] / "policies" / "library"

ADULT_RECORD: dict[str, Any] = {
    "booking_number": "B2026-000123",
    "booked_at": "2026-05-04T10:15:00-05:00",
    "released_at": None,
    "arresting_agency": "Milwaukee PD",
    "booking_agency": "MCSO",
    "custody_status": "in custody",
    "housing": "CJF 4A",
    "person": {
        "first_name": "Jordan",
        "middle_name": None,
        "last_name": "Doe",
        "suffix": None,
        "date_of_birth": "1990-05-17",
        "age": 35,
        "sex": "M",
        "race": "W",
        "ethnicity": None,
        "address": "123 Main St",
        "zip": "53202",
        "state_id": "WI1234567",
        "fbi_number": "123456AB7",
        "drivers_license": "D123-4567-8901-23",
        "ssn": "123-45-6789",
    },
    "charges": [
        {
            "statute": "943.32(1)(a)",
            "description": "Robbery",
            "level": "F",
            "disposition": "convicted",
            "bond_amount": 5000,
        }
    ],
    "status": {"juvenile": False, "sealed": False, "expunged": False, "removed": False},
}

POLICE_REQUEST: dict[str, Any] = {
    "recipient": {"type": "local_le", "name": "Milwaukee Police Department", "ori": "WI0410200"},
    "on_behalf_of": None,
    "purpose": "investigation.violent-felony",
    "case_number": "MPD-2026-00417",
    "offense_statute": "943.32(1)(a)",
    "narrative": "Armed robbery of a gas station clerk on 3 May 2026; tattoo matches a booking.",
    "mode": "single",
    "documents": [],
    "fields": None,
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
