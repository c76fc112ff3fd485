"""Migrate the peer's database and give it ``n`` tickets (bulk insert), in the peer's venv:
``python -m bench.helpdesk_peer.load N``."""

import os
import sys

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.helpdesk_peer.settings"


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from helpdesk.models import Queue, Ticket

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    queue = Queue.objects.create(title="Support", slug="support", allow_public_submission=True)
    count = int(sys.argv[1])
    moment = timezone.now()
    batch = 5000
    for start in range(0, count, batch):
        Ticket.objects.bulk_create(
            Ticket(
                title=f"Our admin left ({i})",
                queue=queue,
                submitter_email=f"claire@company{i}.example",
                description="Nobody can manage our users since Marc left.",
                status=1 + i % 4,
                priority=3,
                created=moment,
                modified=moment,
                secret_key=f"{i:012d}",
            )
            for i in range(start, min(start + batch, count))
        )
    print(queue.pk)


if __name__ == "__main__":
    main()
