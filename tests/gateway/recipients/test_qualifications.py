"""CJ-06: a staff role works only while its holder's training and background check cover today."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from gateway.faces.access import examiner_is_current
from gateway.faces.models import ExaminerTraining
from gateway.models import QualificationKind, RecipientAccount, StaffQualification
from gateway.recipients.roles import STAFF_ROLES, Role
from gateway.recipients.selectors import staff_role_current
from gateway.recipients.services import (
    staff_qualification_record,
    staff_role_qualify,
    user_create_with_role,
)
from tests.gateway.web.staff import staff_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _user(role: Role = Role.CLERK) -> User:
    return user_create_with_role(username=f"u-{role}", password="a-long-password-1", role=role)


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_every_staff_role_needs_both_records(role: Role) -> None:
    user = _user(role)
    assert not staff_role_current(user=user, role=role)
    staff_role_qualify(user=user, role=role)
    assert staff_role_current(user=user, role=role)


def test_a_lapsed_training_record_stops_the_role() -> None:
    user = _user()
    staff_role_qualify(user=user, role=Role.CLERK)
    StaffQualification.objects.filter(kind="training").update(
        completed_on=TODAY() - timedelta(days=366), valid_until=TODAY() - timedelta(days=1)
    )
    assert not staff_role_current(user=user, role=Role.CLERK)


def test_a_lapsed_background_check_stops_the_role() -> None:
    user = _user()
    staff_role_qualify(user=user, role=Role.CLERK)
    StaffQualification.objects.filter(kind="background_check").update(
        completed_on=TODAY() - timedelta(days=366), valid_until=TODAY() - timedelta(days=1)
    )
    assert not staff_role_current(user=user, role=Role.CLERK)


def test_a_record_that_starts_tomorrow_does_not_count_yet() -> None:
    user = _user()
    staff_role_qualify(user=user, role=Role.CLERK)
    StaffQualification.objects.filter(kind="training").update(
        completed_on=TODAY() + timedelta(days=1), valid_until=TODAY() + timedelta(days=9)
    )
    assert not staff_role_current(user=user, role=Role.CLERK)


def test_training_for_another_role_does_not_qualify() -> None:
    user = _user(Role.CLERK)
    staff_role_qualify(user=user, role=Role.COMPLIANCE)
    assert not staff_role_current(user=user, role=Role.CLERK)


def test_a_background_check_for_another_role_does_not_qualify_but_a_blank_one_does() -> None:
    user = _user(Role.CLERK)
    today = TODAY()
    staff_qualification_record(
        user=user,
        kind=QualificationKind.TRAINING,
        role=Role.CLERK,
        completed_on=today,
        valid_until=today,
    )
    staff_qualification_record(
        user=user,
        kind=QualificationKind.BACKGROUND_CHECK,
        role=Role.EXAMINER,
        completed_on=today,
        valid_until=today,
    )
    assert not staff_role_current(user=user, role=Role.CLERK)
    staff_qualification_record(
        user=user, kind=QualificationKind.BACKGROUND_CHECK, completed_on=today, valid_until=today
    )
    assert staff_role_current(user=user, role=Role.CLERK)  # valid on its last day too


def test_records_do_not_make_a_role_the_user_does_not_hold() -> None:
    user = _user(Role.CLERK)
    staff_role_qualify(user=user, role=Role.COMPLIANCE)
    assert not staff_role_current(user=user, role=Role.COMPLIANCE)


def test_an_inactive_user_has_no_current_role() -> None:
    user = _user()
    staff_role_qualify(user=user, role=Role.CLERK)
    user.is_active = False
    user.save()
    assert not staff_role_current(user=user, role=Role.CLERK)


@pytest.mark.parametrize("role", [Role.VENDOR, Role.AGENCY])
def test_recipient_roles_are_never_current_staff_roles(role: Role) -> None:
    user = _user(role)
    staff_role_qualify(user=user, role=role)
    assert not staff_role_current(user=user, role=role)


def test_a_training_record_must_name_its_role_and_end_after_it_starts() -> None:
    user = _user()
    with pytest.raises(ValidationError):
        staff_qualification_record(
            user=user, kind=QualificationKind.TRAINING, completed_on=TODAY(), valid_until=TODAY()
        )
    with pytest.raises(ValidationError):
        staff_qualification_record(
            user=user,
            kind=QualificationKind.BACKGROUND_CHECK,
            completed_on=TODAY(),
            valid_until=TODAY() - timedelta(days=1),
        )


def test_an_examiners_face_comparison_course_still_counts_as_examiner_training() -> None:
    """The examiner path (FR-02) runs through staff_role_current, and ExaminerTraining is its training."""
    user = _user(Role.EXAMINER)
    ExaminerTraining.objects.create(
        examiner=user, course="FISWG", completed_on=TODAY(), valid_until=TODAY()
    )
    assert not examiner_is_current(user=user)  # no background check yet
    staff_qualification_record(
        user=user,
        kind=QualificationKind.BACKGROUND_CHECK,
        completed_on=TODAY(),
        valid_until=TODAY(),
    )
    assert examiner_is_current(user=user)
    ExaminerTraining.objects.update(
        valid_until=TODAY() - timedelta(days=1), completed_on=TODAY() - timedelta(days=5)
    )
    assert not examiner_is_current(user=user)
    # ... and ExaminerTraining qualifies nobody for any other role.
    user.groups.add(Group.objects.get(name="clerk"))
    assert not staff_role_current(user=user, role=Role.CLERK)


def test_the_home_page_says_which_role_does_not_work_today() -> None:
    staff = staff_create("clerk.one", Role.CLERK, qualified=False)
    client = Client()
    assert staff.sign_in(client).status_code == 302
    html = client.get("/").content.decode()
    assert "This role does not work today" in html
    assert "Request queue" not in html
    assert "(not current)" in html


def test_a_recipient_account_holds_no_staff_role_even_with_the_group() -> None:
    user = _user(Role.CLERK)
    staff_role_qualify(user=user, role=Role.CLERK)
    RecipientAccount.objects.create(user=user, recipient_type="vendor", name="V")
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 403
