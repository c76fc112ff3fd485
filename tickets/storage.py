import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """FileSystemStorage whose folder is read from ``PRIVATE_MEDIA_ROOT`` when used, not at import."""

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(settings.PRIVATE_MEDIA_ROOT)


def private_storage():
    """Evidence storage: a folder outside MEDIA_ROOT with no base URL."""
    return PrivateStorage(base_url=None)
