"""Evidence files: type checked by content (magic bytes), size and count capped."""

import hashlib

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

ALLOWED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def evidence_check(upload) -> str:
    """Return the file's real MIME type, or raise ValidationError with a message for the person."""
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            _("“%(name)s” is larger than %(max)s, the limit for each file."),
            params={"name": upload.name, "max": filesizeformat(settings.EVIDENCE_MAX_BYTES)},
            code="too_big",
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind else None
    if mime not in ALLOWED_TYPES:
        raise ValidationError(
            _("“%(name)s” is not a PDF, JPEG or PNG file (its content was checked, not its name)."),
            params={"name": upload.name},
            code="bad_type",
        )
    return mime


def evidence_check_many(uploads) -> list[str]:
    if len(uploads) > settings.EVIDENCE_MAX_FILES:
        raise ValidationError(
            _("Attach at most %(max)d files (you chose %(count)d)."),
            params={"max": settings.EVIDENCE_MAX_FILES, "count": len(uploads)},
            code="too_many",
        )
    errors, types = [], []
    for upload in uploads:
        try:
            types.append(evidence_check(upload))
        except ValidationError as exc:
            errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)
    return types


def sha256_of(upload) -> str:
    h = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        h.update(chunk)
    upload.seek(0)
    return h.hexdigest()
