"""Create the role groups (gateway.recipients.roles.Role); names are copied here so the migration never imports app code."""

from django.db import migrations

ROLES = ["clerk", "compliance", "examiner", "vendor", "agency"]


def create(apps, schema_editor):
    group = apps.get_model("auth", "Group")
    for name in ROLES:
        group.objects.get_or_create(name=name)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("gateway", "0002_field_sensitivity_tags"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, remove)]
