"""`manage.py demo_setup`: what `make demo` runs after migrating."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import override_settings

from gateway.faces.models import FaceTemplate, MatchEvaluation
from gateway.models import Booking, Mugshot

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@override_settings(DEBUG=True)
@pytest.mark.django_db(transaction=True)  # enrollment is queued on commit, as in a real `make demo`
def test_demo_setup_builds_a_county_a_sample_gallery_and_accounts() -> None:
    out = io.StringIO()
    call_command("demo_setup", "--bookings", "600", "--seed", "7", stdout=out)
    text = out.getvalue()

    assert Booking.objects.filter(source="synthetic").count() == 600
    sample_mugshots = Mugshot.objects.filter(synthetic=True)
    assert sample_mugshots.exists()
    enrolled = FaceTemplate.objects.filter(mugshot__in=sample_mugshots, failure="")
    assert enrolled.count() >= 2
    assert MatchEvaluation.objects.filter(created_by="demo_setup").exists()
    # Every printed account signs in with the password that was printed.
    lines = [line.split() for line in text.splitlines() if " password " in line]
    assert {line[2] for line in lines} == {"clerk", "compliance", "vendor", "examiner"}
    for line in lines:
        assert authenticate(username=line[2], password=line[4]) is not None

    # A second run creates nothing new in the county and keeps the gallery as it was.
    before = (Mugshot.objects.count(), FaceTemplate.objects.count())
    call_command("demo_setup", "--bookings", "600", "--seed", "7", stdout=io.StringIO())
    assert Booking.objects.filter(source="synthetic").count() == 600
    assert (Mugshot.objects.count(), FaceTemplate.objects.count()) == before


@override_settings(DEBUG=False)
def test_demo_setup_refuses_to_run_outside_debug() -> None:
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("demo_setup", "--bookings", "10", "--skip-faces", stdout=io.StringIO())
    assert not Booking.objects.exists()
