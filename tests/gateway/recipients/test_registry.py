"""The recipient registry: standing, four-eyes changes, audit, and the release path's pre-check."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from gateway.audit.models import AuditAction, AuditEntry
from gateway.exceptions import NotFoundError
from gateway.models import RecipientAccount
from gateway.recipients.models import AgreementRecord, RegistryChangeState
from gateway.recipients.registry import (
    RegistryChangeRefusedError,
    RegistryInvalidError,
    agreement_record_add,
    certification_add,
    organisation_account_link,
    organisation_create,
    organisation_reinstate,
    organisation_suspend,
    registry_change_approve,
    registry_change_refuse,
)
from gateway.recipients.selectors import StandingReason, recipient_registered, recipient_standing
from gateway.releases.services import ReleaseStatus, release_records
from tests.gateway.documents.helpers import pdf, staff
from tests.gateway.releases.test_services import POLICE, bookings, policy_settings  # noqa: F401

pytestmark = pytest.mark.django_db
MPD = POLICE["recipient"]
TODAY = timezone.localdate()


def _registered(*, certified: bool = True, agreement_days: int | None = 30):
    """MPD as an organisation, certified (IM-03) and with a signed local-police agreement."""
    clerk, officer = staff("clerk.a"), staff("officer.b")
    organisation = organisation_create(
        user=clerk,
        recipient_type=MPD["type"],
        name=MPD["name"],
        ori=MPD["ori"],
        contact_name="Sgt X",
    )
    if certified:
        certification_add(
            user=clerk,
            organisation_id=organisation.pk,
            signed_by="Chief Y",
            signed_on=TODAY,
            document=pdf(),
        )
    if agreement_days is not None:
        change = agreement_record_add(
            user=clerk,
            organisation_id=organisation.pk,
            agreement_id="local-police",
            signed_by="Chief Y",
            starts_on=TODAY - timedelta(days=400),
            ends_on=TODAY + timedelta(days=agreement_days),
            document=pdf(2),
        )
        registry_change_approve(user=officer, change_id=change.pk)
    return organisation, clerk, officer


def test_no_organisation_record_stands_as_before() -> None:
    assert recipient_standing(party=MPD).reason is StandingReason.NOT_REGISTERED
    assert not recipient_standing(party=MPD).suspended
    user = User.objects.create_user(username="mpd.1")
    RecipientAccount.objects.create(user=user, recipient_type=MPD["type"], name=MPD["name"])
    standing = recipient_standing(party=MPD)
    assert (standing.active, standing.reason) == (True, StandingReason.ACCOUNT_ONLY)
    assert recipient_registered(party=MPD)


def test_a_registered_organisation_in_good_standing() -> None:
    organisation, _, _ = _registered()
    standing = recipient_standing(party={"type": "local_le", "name": "milwaukee police department"})
    assert (standing.active, standing.reason, standing.organisation_id) == (
        True,
        StandingReason.ACTIVE,
        organisation.pk,
    )
    assert recipient_registered(party=MPD)


def test_what_suspends_an_organisation() -> None:
    organisation, clerk, _ = _registered(certified=False)
    assert recipient_standing(party=MPD).reason is StandingReason.CERTIFICATION_MISSING
    later = TODAY + timedelta(days=400)
    certification_add(
        user=clerk,
        organisation_id=organisation.pk,
        signed_by="Chief Y",
        signed_on=TODAY,
        document=pdf(),
    )
    assert recipient_standing(party=MPD).active
    assert recipient_standing(party=MPD, today=TODAY + timedelta(days=31)).reason is (
        StandingReason.AGREEMENT_EXPIRED
    )
    assert recipient_standing(party=MPD, today=later).reason is StandingReason.CERTIFICATION_EXPIRED
    assert recipient_standing(party=MPD, today=TODAY - timedelta(days=500)).reason is (
        StandingReason.CERTIFICATION_EXPIRED
    )
    organisation_suspend(user=clerk, organisation_id=organisation.pk, reason="audit finding")
    standing = recipient_standing(party=MPD)
    assert (standing.suspended, standing.reason) == (True, StandingReason.SUSPENDED)
    assert not recipient_registered(party=MPD)


def test_an_agreement_not_started_suspends_too() -> None:
    organisation, clerk, officer = _registered(agreement_days=None)
    change = agreement_record_add(
        user=clerk,
        organisation_id=organisation.pk,
        agreement_id="local-police",
        signed_by="Chief Y",
        starts_on=TODAY + timedelta(days=5),
        ends_on=TODAY + timedelta(days=365),
        document=pdf(),
    )
    assert recipient_standing(party=MPD).active  # pending: nothing recorded yet
    registry_change_approve(user=officer, change_id=change.pk)
    assert recipient_standing(party=MPD).reason is StandingReason.AGREEMENT_NOT_STARTED


def test_widening_changes_need_a_second_staff_member() -> None:
    organisation, clerk, officer = _registered(agreement_days=None)
    change = agreement_record_add(
        user=clerk,
        organisation_id=organisation.pk,
        agreement_id="local-police",
        signed_by="Chief Y",
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=365),
        document=pdf(),
    )
    assert not AgreementRecord.objects.exists()
    with pytest.raises(RegistryChangeRefusedError):
        registry_change_approve(user=clerk, change_id=change.pk)
    refused = AuditEntry.objects.get(action=AuditAction.REGISTRY_CHANGE_REFUSE)
    assert (refused.effect, refused.error_code, refused.actor) == (
        "deny",
        "self_approval",
        "clerk.a",
    )
    assert not AgreementRecord.objects.exists()
    applied = registry_change_approve(user=officer, change_id=change.pk)
    assert (applied.state, applied.approver_name) == (RegistryChangeState.APPLIED, "officer.b")
    record = AgreementRecord.objects.get()
    assert (record.proposed_by, record.approved_by, len(record.document_sha256)) == (
        "clerk.a",
        "officer.b",
        64,
    )
    with pytest.raises(RegistryChangeRefusedError):
        registry_change_approve(user=staff("third"), change_id=change.pk)  # applied once only

    organisation_suspend(user=officer, organisation_id=organisation.pk, reason="late report")
    reinstate = organisation_reinstate(user=officer, organisation_id=organisation.pk)
    with pytest.raises(RegistryChangeRefusedError):
        registry_change_approve(user=officer, change_id=reinstate.pk)
    assert recipient_standing(party=MPD).reason is StandingReason.SUSPENDED
    registry_change_approve(user=clerk, change_id=reinstate.pk)
    assert recipient_standing(party=MPD).active


def test_a_refusal_ends_a_change() -> None:
    organisation, clerk, officer = _registered()
    organisation_suspend(user=clerk, organisation_id=organisation.pk, reason="x")
    change = organisation_reinstate(user=clerk, organisation_id=organisation.pk)
    registry_change_refuse(user=clerk, change_id=change.pk, reason="withdrawn")
    with pytest.raises(RegistryChangeRefusedError):
        registry_change_approve(user=officer, change_id=change.pk)
    with pytest.raises(RegistryChangeRefusedError):
        registry_change_refuse(user=officer, change_id=change.pk)
    assert recipient_standing(party=MPD).reason is StandingReason.SUSPENDED


def test_every_registry_change_is_audited_without_personal_data() -> None:
    _registered()
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        AuditAction.ORGANISATION_CREATE,
        AuditAction.CERTIFICATION_ADD,
        AuditAction.AGREEMENT_RECORD_PROPOSE,
        AuditAction.REGISTRY_CHANGE_APPROVE,
    ]
    text = str(list(AuditEntry.objects.values()))
    assert "Chief Y" not in text
    assert "Sgt X" not in text
    assert AuditEntry.objects.filter(recipient_name=MPD["name"]).count() == 4


def test_registry_inputs_are_checked() -> None:
    organisation, clerk, _ = _registered(agreement_days=None)
    with pytest.raises(RegistryInvalidError):
        organisation_create(user=clerk, recipient_type="local_le", name="Other", ori=MPD["ori"])
    with pytest.raises(RegistryInvalidError):
        organisation_create(user=clerk, recipient_type="martian", name="Other")
    for agreement in ("no-such-agreement", "courts"):  # unknown; for another recipient type
        with pytest.raises(RegistryInvalidError):
            agreement_record_add(
                user=clerk,
                organisation_id=organisation.pk,
                agreement_id=agreement,
                signed_by="Y",
                starts_on=TODAY,
                ends_on=TODAY,
                document=pdf(),
            )
    with pytest.raises(RegistryInvalidError):
        certification_add(
            user=clerk,
            organisation_id=organisation.pk,
            signed_by="Y",
            signed_on=TODAY,
            valid_until=TODAY + timedelta(days=800),
            document=pdf(),
        )
    with pytest.raises(RegistryInvalidError):
        organisation_reinstate(user=clerk, organisation_id=organisation.pk)  # not suspended
    outsider = User.objects.create_user(username="vendor.x")
    with pytest.raises(NotFoundError):
        organisation_suspend(user=outsider, organisation_id=organisation.pk, reason="x")


def test_accounts_link_to_their_organisation() -> None:
    organisation, clerk, _ = _registered()
    user = User.objects.create_user(username="det.smith")
    account = RecipientAccount.objects.create(user=user, recipient_type="local_le", name="MPD desk")
    organisation_account_link(user=clerk, organisation_id=organisation.pk, account_id=account.pk)
    assert list(organisation.accounts.all()) == [account]
    organisation_suspend(user=clerk, organisation_id=organisation.pk, reason="x")
    # The linked account, whatever name it carries, stands with its organisation.
    assert recipient_standing(party={"type": "local_le", "name": "MPD desk"}).suspended
    court_user = User.objects.create_user(username="court.1")
    other = RecipientAccount.objects.create(user=court_user, recipient_type="court", name="Court")
    with pytest.raises(RegistryInvalidError):
        organisation_account_link(user=clerk, organisation_id=organisation.pk, account_id=other.pk)


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (TODAY + timedelta(days=31), "agreement_expired"),
        (TODAY + timedelta(days=400), "certification_expired"),
    ],
)
@pytest.mark.usefixtures("bookings")
def test_a_lapsed_recipient_is_denied_through_the_release_path(monkeypatch, when, code) -> None:
    _registered()
    permitted = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    assert permitted.status is ReleaseStatus.RELEASED
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: when)
    decide_calls = []
    import gateway.releases.services as releases

    monkeypatch.setattr(releases, "decide", lambda **kw: decide_calls.append(kw))
    answer = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    assert answer.status is ReleaseStatus.NOT_AVAILABLE
    assert answer.records == ()
    assert decide_calls == []  # denied without asking the policy
    entry = AuditEntry.objects.get(public_id=answer.release_id)
    assert (entry.effect, entry.error_code, entry.action) == ("deny", code, AuditAction.RELEASE)
    assert code not in str(answer.as_dict())


@pytest.mark.usefixtures("bookings")
def test_an_unregistered_or_account_only_recipient_is_decided_as_before() -> None:
    answer = release_records(
        request=POLICE, booking_numbers=["B1"], requested_by="det", reviewed_by="clerk"
    )
    assert answer.status is ReleaseStatus.RELEASED
    assert AuditEntry.objects.get(public_id=answer.release_id).error_code == ""


def test_certification_dates(settings) -> None:
    organisation, clerk, _ = _registered(certified=False, agreement_days=None)
    certification = certification_add(
        user=clerk,
        organisation_id=organisation.pk,
        signed_by="Y",
        signed_on=date(2026, 1, 1) if date(2026, 1, 1) <= TODAY else TODAY,
        document=pdf(),
    )
    assert (certification.valid_until - certification.signed_on).days == 365
    with pytest.raises(RegistryInvalidError):
        certification_add(
            user=clerk,
            organisation_id=organisation.pk,
            signed_by="Y",
            signed_on=TODAY + timedelta(days=1),
            document=pdf(),
        )
