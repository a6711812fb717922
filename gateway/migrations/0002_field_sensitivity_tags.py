"""Seed the sensitivity tags of every field in the exported record shape.

Kept as data so a county can add tags without a code change; policies are written against the tags.
Sources: rules.md IM-05/IM-06/IM-09 (address, release date and housing are immigration-sensitive),
FR-03 (race, sex, ethnicity are protected traits), governance.md 1b (direct vs quasi-identifiers).
"""

from django.db import migrations

DIRECT = "direct_identifier"
QUASI = "quasi_identifier"
PROTECTED = "protected_trait"
IMMIGRATION = "immigration_sensitive"

TAGS = {
    "booking_number": [DIRECT],
    "booked_at": [QUASI],
    "released_at": [QUASI, IMMIGRATION],
    "arresting_agency": [],
    "booking_agency": [],
    "custody_status": [IMMIGRATION],
    "housing": [IMMIGRATION],
    "person.first_name": [DIRECT],
    "person.middle_name": [DIRECT],
    "person.last_name": [DIRECT],
    "person.suffix": [DIRECT],
    "person.date_of_birth": [QUASI],
    "person.age": [QUASI],
    "person.sex": [QUASI, PROTECTED],
    "person.race": [QUASI, PROTECTED],
    "person.ethnicity": [QUASI, PROTECTED],
    "person.address": [DIRECT, IMMIGRATION],
    "person.zip": [QUASI, IMMIGRATION],
    "person.state_id": [DIRECT],
    "person.fbi_number": [DIRECT],
    "person.drivers_license": [DIRECT, IMMIGRATION],
    "person.ssn": [DIRECT, IMMIGRATION],
    "charges.statute": [],
    "charges.description": [],
    "charges.level": [],
    "charges.disposition": [],
    "charges.bond_amount": [],
    "mugshot": [DIRECT],
}


def seed(apps, schema_editor):
    field_sensitivity = apps.get_model("gateway", "FieldSensitivity")
    for field, tags in TAGS.items():
        field_sensitivity.objects.update_or_create(field=field, defaults={"tags": tags})


def unseed(apps, schema_editor):
    apps.get_model("gateway", "FieldSensitivity").objects.filter(field__in=TAGS).delete()


class Migration(migrations.Migration):
    dependencies = [("gateway", "0001_records")]
    operations = [migrations.RunPython(seed, unseed)]
