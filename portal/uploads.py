"""Stop reading a request body past a total, before any of it reaches a temporary file.

Django writes uploads to temporary files as they arrive and only then do our forms refuse a file over
10 MB; an anonymous 300 MB POST was read and written in full. This handler, first in the list, refuses
a body whose declared length is over REQUEST_BODY_MAX_BYTES without reading it, and stops reading one
that grows past it (chunked, or lying about its length). Views ask ``body_refused(request)``.
"""

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict


class RequestBodyLimit(FileUploadHandler):
    def handle_raw_input(
        self, input_data: Any, META: dict[str, Any], content_length: int, boundary: str, encoding: str | None = None
    ) -> tuple[QueryDict, MultiValueDict] | None:
        self.received = 0
        if content_length > settings.REQUEST_BODY_MAX_BYTES:
            self._refuse()
            return QueryDict(encoding=encoding), MultiValueDict()  # "parsed": nothing, and nothing read
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.REQUEST_BODY_MAX_BYTES:
            self._refuse()
            raise StopUpload(connection_reset=True)  # stop reading: the rest is never read
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _refuse(self) -> None:
        if self.request is not None:
            self.request.body_refused = True  # type: ignore[attr-defined]


def body_refused(request: Any) -> bool:
    """Whether this request's body was too large to be read (parsing it first, which runs the handlers)."""
    if request.method == "POST":
        request.FILES  # noqa: B018  (parsing the body is what runs the upload handlers)
    return bool(getattr(request, "body_refused", False))
