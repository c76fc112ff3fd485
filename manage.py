#!/usr/bin/env python
import os
import sys

from portal.environment import load_dotenv


def main():
    load_dotenv()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    from django.core.management import execute_from_command_line  # after the settings module is chosen

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
