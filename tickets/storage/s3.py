"""Evidence in an S3-compatible bucket (django-storages), so that any web node can read what another stored.

Imported only when ``EVIDENCE_STORAGE=s3`` (``STORAGES["evidence"]``): the demo and a single node never load boto3.
"""

import posixpath
import secrets

from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from . import NoURL


class PrivateS3Storage(NoURL, S3Storage):
    """Private objects (``default_acl`` and ``object_parameters`` in ``portal/settings/base.py``), no URLs,
    and a random key for every file."""

    # A file opened for the staff view is downloaded into memory and never rolled over to a temporary file
    # (0 means never; evidence is at most EVIDENCE_MAX_BYTES): an identity document stays off the node's disk.
    max_memory_size = 0

    def get_available_name(self, name, max_length=None):
        # S3 has no "create unless it exists": two web nodes saving the same file name at once would both
        # find the key free and one would overwrite the other's document. 128 random bits never collide,
        # and the person's file name (kept in the database) stays out of bucket listings and access logs.
        directory = posixpath.dirname(clean_name(name))
        return posixpath.join(directory, secrets.token_hex(16))
