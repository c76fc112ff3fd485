"""`manage.py purge_expired_personal_data [--dry-run]`: purge closed requests past the retention period."""

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.services import service_requests_purge_expired


class Command(BaseCommand):
    help = "Delete the evidence files and blank or hash the personal data of requests closed longer than the retention period."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="say what would be purged, change nothing")

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        reports = service_requests_purge_expired(dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        days = settings.PERSONAL_DATA_RETENTION.days
        for r in reports:
            self.stdout.write(
                f"{r.reference}: {verb} {len(r.fields)} fields, {r.files} files, {r.messages} messages, {r.outbox_rows} emails"
            )
        self.stdout.write(f"{len(reports)} requests closed more than {days} days ago {verb}.")
