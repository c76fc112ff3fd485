"""Where evidence files live: the storage named ``evidence`` in ``settings.STORAGES``.

``evidence_storage()`` is the one way to reach them: the ``Evidence.file`` field gets it, so saving an
upload and opening it for the staff view go through it, and so must anything else that reads, lists or
deletes evidence. Which backend it is comes from the environment (``EVIDENCE_STORAGE``, read in
``portal/settings/base.py``): ``PrivateFileSystemStorage`` below (``PRIVATE_MEDIA_ROOT``, one node) or
``s3.PrivateS3Storage`` (a private bucket that every web node reads). Neither has a URL: the staff view
streams the file.
"""

import os
from typing import cast

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty


class NoURL:
    """Evidence is never linked to, not even by a signed URL: only the staff evidence view serves it,
    after checking the permission and recording ``evidence.viewed`` (tickets/admin.py)."""

    def url(self, name, *args, **kwargs):
        raise NotImplementedError("evidence has no URL: the staff evidence view streams it")


class PrivateFileSystemStorage(NoURL, FileSystemStorage):
    """A folder outside MEDIA_ROOT, read from ``PRIVATE_MEDIA_ROOT`` when used, not at import."""

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(settings.PRIVATE_MEDIA_ROOT)


class _EvidenceStorage(LazyObject):
    """``storages["evidence"]``, looked up on first use rather than when the model is imported, so that
    the model's field always uses the configured backend (and a test that changes STORAGES is obeyed)."""

    _wrapped: object  # the storage, or ``empty`` until first used

    def _setup(self):
        self._wrapped = storages["evidence"]


_evidence = _EvidenceStorage()


def evidence_storage() -> Storage:
    """The storage of evidence files (``STORAGES["evidence"]``): the one way to read, write or delete them.

    A callable, as ``Evidence.file``'s ``storage``: migrations record this function, not the backend, so
    changing ``EVIDENCE_STORAGE`` never asks for a migration.
    """
    return cast(Storage, _evidence)


# Migration 0001 names the field's storage by its former name; it is the same function.
private_storage = evidence_storage


@receiver(setting_changed)
def _forget_evidence_storage(*, setting, **kwargs):
    # Django forgets its own storages when STORAGES changes (django.test.signals); do the same.
    if setting == "STORAGES":
        _evidence._wrapped = empty
