"""Fixtures of the request lifecycle tests: the shipped policies, a police recipient, two clerks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from gateway.models import RecipientAccount
from gateway.recipients.roles import Role
from gateway.recipients.services import staff_role_qualify, user_create_with_role
from gateway.requests.models import ReleaseRequest
from gateway.requests.services import request_submit
from policies.examples import EXAMPLE_POLICE_REQUEST
from policies.services import key_file_create
from tests.gateway.releases.test_services import _booking, _person

LIBRARY = Path(__file__).resolve().parents[3] / "policies" / "library"
POLICE: dict[str, Any] = {
    k: v
    for k, v in copy.deepcopy(EXAMPLE_POLICE_REQUEST).items()
    if k not in {"records", "fields", "recipient"}
}
PASSWORD = "request-test-password-1"


@pytest.fixture(autouse=True)
def policies(settings: Any, tmp_path: Path) -> Path:
    """A copy of the shipped library, so a test can change a purpose (``purpose_line``)."""
    library = tmp_path / "library"
    library.mkdir()
    for path in LIBRARY.glob("*.yaml"):
        if not path.name.endswith("_test.yaml"):
            (library / path.name).write_text(path.read_text())
    settings.POLICY_DIRS = [library]
    settings.POLICY_KEYS_FILE = tmp_path / "keys.json"
    key_file_create(path=settings.POLICY_KEYS_FILE)
    return library


def police_needs_two_approvers(library: Path) -> None:
    local = library / "local-police.yaml"
    local.write_text(
        local.read_text().replace(
            "    human_review: true\n", "    human_review: true\n    approvers: 2\n", 1
        )
    )


@pytest.fixture
def bookings(db: None) -> None:
    adult = _person("1")
    _booking("B1", adult)
    _booking("B7", adult)
    _booking("B2", adult, sealed_order="2025CV77")


def _recipient(username: str, name: str = "Milwaukee Police Department") -> User:
    user = user_create_with_role(username=username, password=PASSWORD, role=Role.AGENCY)
    RecipientAccount.objects.create(
        user=user,
        recipient_type="local_le",
        name=name,
        ori="WI0410200" if "Milwaukee" in name else "",
    )
    return user


@pytest.fixture
def detective(db: None) -> User:
    return _recipient("det")


@pytest.fixture
def other_agency(db: None) -> User:
    return _recipient("other", name="Wauwatosa Police Department")


@pytest.fixture
def clerk(db: None) -> User:
    return _qualified(
        user_create_with_role(username="clerk1", password=PASSWORD, role=Role.CLERK), Role.CLERK
    )


@pytest.fixture
def clerk2(db: None) -> User:
    return _qualified(
        user_create_with_role(username="clerk2", password=PASSWORD, role=Role.CLERK), Role.CLERK
    )


@pytest.fixture
def compliance(db: None) -> User:
    return _qualified(
        user_create_with_role(username="officer", password=PASSWORD, role=Role.COMPLIANCE),
        Role.COMPLIANCE,
    )


def _qualified(user: User, role: Role) -> User:
    staff_role_qualify(user=user, role=role)  # CJ-06: a role works only while qualified
    return user


def submit(user: User, **changes: Any) -> ReleaseRequest:
    body: dict[str, Any] = {**POLICE, "booking_numbers": ["B1"], **changes}
    return request_submit(
        recipient=user.recipient_account.as_recipient(), requested_by=user, **body
    )
