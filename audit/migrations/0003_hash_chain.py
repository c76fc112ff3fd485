"""Chain the audit log (each event's hash follows from the one before) and make it append-only.

Existing events are chained in id order first; then PostgreSQL (and SQLite, for the demo) refuse
UPDATE and DELETE on the table with a trigger.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from audit.chain import GENESIS, link_hash

TRIGGERS = {
    "postgresql": (
        [
            """CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$
               BEGIN
                   RAISE EXCEPTION USING MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused',
                                         ERRCODE = 'insufficient_privilege';
               END; $$ LANGUAGE plpgsql""",
            """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
               FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
        ],
        [
            "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
            "DROP FUNCTION IF EXISTS audit_event_append_only()",
        ],
    ),
    "sqlite": (
        [
            """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
               BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
            """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
               BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
        ],
        ["DROP TRIGGER IF EXISTS audit_event_no_update", "DROP TRIGGER IF EXISTS audit_event_no_delete"],
    ),
}


def chain_existing(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    previous, last_id = GENESIS, None
    for values in AuditEvent.objects.order_by("id").values().iterator(chunk_size=2000):
        previous, last_id = link_hash(previous, values), values["id"]
        AuditEvent.objects.filter(pk=last_id).update(chain_hash=previous)
    AuditChainHead.objects.create(pk=1, last_event_id=last_id, last_hash=previous)


def append_only(apps, schema_editor):
    for statement in TRIGGERS.get(schema_editor.connection.vendor, ([], []))[0]:
        schema_editor.execute(statement)


def not_append_only(apps, schema_editor):
    for statement in TRIGGERS.get(schema_editor.connection.vendor, ([], []))[1]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_self_service_reset_scope"),
        ("audit", "0002_action_registry"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="chain hash"),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("last_event_id", models.BigIntegerField(blank=True, null=True)),
                ("last_hash", models.CharField(max_length=64)),
            ],
            options={"verbose_name": "audit chain head"},
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to=settings.AUTH_USER_MODEL, verbose_name="actor",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="tenant",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="audit_events",
                to="accounts.tenant", verbose_name="tenant",
            ),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.RunPython(append_only, not_append_only),
    ]
