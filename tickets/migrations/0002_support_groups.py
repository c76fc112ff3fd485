"""Groups "Support agents" and "Support supervisors" with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AGENT_PERMS = [
    ("tickets", "view_servicerequest"),
    ("tickets", "work_servicerequest"),
    ("tickets", "open_evidence"),
    ("tickets", "view_evidence"),
    ("tickets", "view_verificationcheck"),
    ("tickets", "view_message"),
    ("tickets", "view_elevation"),
    ("accounts", "view_tenant"),
    ("accounts", "view_user"),
    ("accounts", "view_membership"),
    ("audit", "view_auditevent"),
]
SUPERVISOR_PERMS = AGENT_PERMS + [
    ("tickets", "approve_elevation"),
    ("notifications", "view_outboxmessage"),
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        original, app_config.models_module = getattr(app_config, "models_module", None), True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in (("Support agents", AGENT_PERMS), ("Support supervisors", SUPERVISOR_PERMS)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in perms]
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Support agents", "Support supervisors"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("accounts", "0001_initial"),
        ("audit", "0001_initial"),
        ("notifications", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
