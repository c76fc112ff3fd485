"""ASGI entry point (``portal.asgi:application``).

``.env`` has already been read (``portal/__init__.py``). Without DJANGO_SETTINGS_MODULE a server runs
the production settings, which refuse to start without SECRET_KEY: never the demo's DEBUG settings.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
application = get_asgi_application()
