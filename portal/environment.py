"""Read ``.env`` once, before anything reads the environment, so that DJANGO_SETTINGS_MODULE may live there.

``portal/__init__.py`` calls :func:`load_dotenv` before anything else. Every entry point (``manage.py``,
``portal.wsgi``, ``portal.asgi``, ``celery -A portal``) and every settings module lives in the ``portal``
package, so none of them reads a variable before the file is loaded. A variable already set in the
environment wins over the file. ``PORTAL_ENV_FILE`` names another file (tests use it).
"""

import os
from pathlib import Path

import environ


def load_dotenv() -> None:
    env_file = Path(os.environ.get("PORTAL_ENV_FILE") or Path(__file__).resolve().parent.parent / ".env")
    if env_file.exists():
        environ.Env.read_env(str(env_file), overwrite=False)
