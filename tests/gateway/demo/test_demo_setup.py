"""`manage.py demo_setup`: what `make demo` runs after migrating."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import override_settings

from gateway.faces.models import FaceTemplate, MatchEvaluation
from gateway.models import Booking, Mugshot

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@override_settings(DEBUG=True)
@pytest.mark.django_db(transaction=True)  # enrollment is queued on commit, as in a real `make demo`
def test_demo_setup_builds_a_county_a_sample_gallery_and_accounts(
    settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("demo_setup", "--bookings", "600", "--seed", "7", stdout=out)
    text = out.getvalue()

    assert Booking.objects.filter(source="synthetic").count() == 600
    sample_mugshots = Mugshot.objects.filter(synthetic=True)
    assert sample_mugshots.exists()
    enrolled = FaceTemplate.objects.filter(mugshot__in=sample_mugshots, failure="")
    assert enrolled.count() >= 2
    assert MatchEvaluation.objects.filter(created_by="demo_setup").exists()
    # The accounts file is named, not its passwords; every account in it with a password signs in.
    path = settings.VAR_DIR / "demo-accounts.json"
    assert str(path) in text
    assert "password " not in text
    accounts = json.loads(path.read_text())
    assert {a["username"] for a in accounts} >= {"admin", "clerk", "compliance", "examiner"}
    for account in accounts:
        if account["password"]:
            assert authenticate(username=account["username"], password=account["password"])

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
