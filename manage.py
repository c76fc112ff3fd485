#!/usr/bin/env python
"""Django's command-line utility.

Like the web server and Celery, it never falls back to the demo's DEBUG settings: without
DJANGO_SETTINGS_MODULE (in the environment or in .env) it runs the production settings, which refuse to
start without SECRET_KEY. The same commands run on a production host, where a silent fall-back to the
demo would migrate a SQLite file under var/ and report success. Developers name the local settings once
in .env (CONTRIBUTING.md); the Makefile names them for `make run` and `make messages`.
"""

import os
import sys

import portal  # noqa: F401  (reads .env first, so that it may name DJANGO_SETTINGS_MODULE)


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    from django.core.management import execute_from_command_line  # after the settings module is chosen

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
