"""Audit entries keep no personal data: booking numbers become keyed hashes, case numbers a keyed hash,
and each entry gets a random public id (shown outside the county instead of the row number).

The keyed hash is computed here the way gateway.audit.services.subject_ref does it, copied rather than
imported (migrations never import app code).
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import migrations, models

import gateway.audit.models


def _key():
    configured = getattr(settings, "AUDIT_SUBJECT_KEY", "")
    if configured:
        return str(configured).encode()
    return hmac.new(
        str(settings.SECRET_KEY).encode(), b"custodian audit subject references v1", hashlib.sha256
    ).digest()


def _ref(key, kind, value):
    message = (kind + "\n" + value).encode()
    return kind + ":" + hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def forwards(apps, schema_editor):
    entry_model = apps.get_model("gateway", "AuditEntry")
    match_model = apps.get_model("gateway", "MatchRequest")
    key = _key()
    public = {}
    for entry in entry_model.objects.using(schema_editor.connection.alias).iterator():
        entry.public_id = f"rel_{secrets.token_urlsafe(15)}"
        numbers = [str(n) for n in (entry.booking_numbers or []) if n]
        entry.subject_refs = [_ref(key, "booking", n) for n in dict.fromkeys(numbers)]
        case = (entry.case_number or "").strip()
        entry.case_ref = _ref(key, "case", case) if case else ""
        entry.save(update_fields=["public_id", "subject_refs", "case_ref"])
        public[str(entry.pk)] = entry.public_id
    for match in match_model.objects.using(schema_editor.connection.alias).exclude(release_id=""):
        match.release_id = public.get(str(match.release_id), "")
        match.save(update_fields=["release_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0007_key_collation"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="public_id",
            field=models.CharField(blank=True, default="", editable=False, max_length=40),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="case_ref",
            field=models.CharField(
                blank=True, help_text="Keyed hash of the case number", max_length=80
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="request_id",
            field=models.CharField(blank=True, db_index=True, max_length=40),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="subject_refs",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Keyed hashes and internal ids of people and bookings",
            ),
        ),
        migrations.AlterField(
            model_name="matchrequest",
            name="release_id",
            field=models.CharField(
                blank=True,
                default="",
                help_text="Public id of the audit entry of the release",
                max_length=40,
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="auditentry",
            name="booking_numbers",
        ),
        migrations.RemoveField(
            model_name="auditentry",
            name="case_number",
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="public_id",
            field=models.CharField(
                default=gateway.audit.models.public_id_new,
                editable=False,
                max_length=40,
                unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("release", "Release decision"),
                    ("token_reveal", "Token reveal"),
                    ("face_search", "Face search"),
                    ("face_review", "Face examiner review"),
                    ("face_candidates_view", "Candidate list viewed"),
                    ("face_discovery", "Discovery bundle read"),
                    ("api_refused", "API call refused"),
                    ("sign_in", "Sign-in"),
                    ("sign_in_failed", "Failed sign-in"),
                    ("sign_out", "Sign-out"),
                ],
                max_length=40,
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="excluded",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="obligations",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="reasons",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="released_fields",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
