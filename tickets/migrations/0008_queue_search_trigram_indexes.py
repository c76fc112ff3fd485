"""Trigram indexes for the agents' queue search (PostgreSQL only; the SQLite demo searches by scanning).

The admin searches ``UPPER(column) LIKE UPPER('%term%')`` on each of ServiceRequestAdmin.search_fields:
a GIN index with pg_trgm's operator class on the same expression answers it without reading every row.
Written as SQL for PostgreSQL alone, like audit's triggers, so that the demo's SQLite still migrates.
"""

from django.db import migrations

# index name -> column; the same columns as ServiceRequestAdmin.search_fields (tests/tickets/test_admin_queue.py).
INDEXES = {
    "sr_reference_trgm": "reference",
    "sr_company_trgm": "company_legal_name",
    "sr_domain_trgm": "company_domain",
    "sr_requester_trgm": "requester_email",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON tickets_servicerequest USING gin (UPPER("{column}") gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_requester_time_zone")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
