"""`manage.py verify_audit_log`: walk the audit chain and name the first broken link (exit 1 if broken)."""

from django.core.management.base import BaseCommand, CommandError

from audit.verify import audit_chain_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain, in chunks; names the first event that breaks it."

    def add_arguments(self, parser):
        parser.add_argument("--expect-head", default="", help="a head hash published earlier: it must still be in the chain")
        parser.add_argument("--chunk-size", type=int, default=2000)

    def handle(self, *args, **options):
        verdict = audit_chain_verify(chunk_size=options["chunk_size"], expect_head=options["expect_head"])
        if not verdict.ok:
            raise CommandError(verdict.describe())
        self.stdout.write(verdict.describe())
