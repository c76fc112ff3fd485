from django.conf import settings
from django.core.files.storage import FileSystemStorage


def private_storage():
    """Evidence storage: a folder outside MEDIA_ROOT with no base URL."""
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)
