"""Supervisors may send a failed email again (notifications' admin action "Send the failed emails again")."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSION = ("notifications", "retry_outboxmessage")


def grant(apps, schema_editor):
    # Permissions are normally created after migrate; make sure this one exists now.
    app_config = apps.get_app_config("notifications")
    original, app_config.models_module = getattr(app_config, "models_module", None), True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label=PERMISSION[0], codename=PERMISSION[1])
    for group in Group.objects.filter(name="Support supervisors"):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name="Support supervisors"):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=PERMISSION[0], codename=PERMISSION[1]))


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_personal_data_purge"),
        ("notifications", "0002_outbox_claims"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
