import os

from django.core.asgi import get_asgi_application

from portal.environment import load_dotenv

load_dotenv()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
application = get_asgi_application()
