"""`manage.py generate_bench_data`: tenants, users and service requests at production volume, for `make bench`.

Additive (see tickets/benchdata): each run adds what it is asked for. It lives in tickets because it
writes both apps' data (tickets depends on accounts, never the reverse).
"""

import time

from django.core.management.base import BaseCommand, CommandError

from tickets.benchdata import generate


class Command(BaseCommand):
    help = (
        "Add bench data with bulk COPY: tenants with domains and company records, users with roles, and service "
        "requests in every status with their messages, checks, emails and chained audit events. Additive."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenants", type=int, default=10_000)
        parser.add_argument("--users", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=0, help="the same seed writes the same rows")
        parser.add_argument("--password", default="", help="one password shared by every user written (hashed once); none by default")

    def handle(self, *args, **options):
        if options["tenants"] < 1 or min(options["users"], options["requests"]) < 0:
            raise CommandError("at least one tenant, and no negative volume")
        started = time.perf_counter()
        timings = generate(
            tenants=options["tenants"],
            users=options["users"],
            requests=options["requests"],
            seed=options["seed"],
            password=options["password"],
            write=self.stdout.write,
        )
        for line in timings.report():
            self.stdout.write(line)
        self.stdout.write(f"bench data written in {time.perf_counter() - started:.1f} s")
