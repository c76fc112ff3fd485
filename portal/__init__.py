from .environment import load_dotenv

# First, before the Celery app or any settings module reads a variable: .env may name them all.
load_dotenv()

from .celery import app as celery_app  # noqa: E402  (only after .env is loaded)

__all__ = ("celery_app",)
