import os

from django.core.wsgi import get_wsgi_application

from portal.environment import load_dotenv

load_dotenv()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
application = get_wsgi_application()
