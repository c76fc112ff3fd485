#!/usr/bin/env python
"""Django's command-line utility.

Like the web server and Celery, it never falls back to the demo's DEBUG settings: without
DJANGO_SETTINGS_MODULE (in the environment or in .env) it runs the production settings, which refuse to
start without SECRET_KEY. The same commands run on a production host, where a silent fall-back to the
demo would migrate a SQLite file under var/ and report success. Developers name the local settings once
in .env (CONTRIBUTING.md); the Makefile names them for `make run` and `make messages`.

The exception: commands that only compare or write files of the source tree (``CODE_COMMANDS``: the
migrations and the translation catalogues) default to the local settings. They need no secret and touch no
production service, so ``manage.py makemigrations --check`` works on a fresh clone as it does in CI.
"""

import os
import sys

CODE_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}
if len(sys.argv) > 1 and sys.argv[1] in CODE_COMMANDS:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")  # before .env: the source tree only

import portal  # noqa: E402, F401  (reads .env first, so that it may name DJANGO_SETTINGS_MODULE)


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    from django.core.management import execute_from_command_line  # after the settings module is chosen

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
