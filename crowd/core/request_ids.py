"""A request's id: the caller's X-Request-Id when sane, else a fresh one; logs and 5xx carry it.

Kept in the WSGI environ, so a request run again after a lost race (crowd.core.db's
RetryOnContention) keeps its id.
"""

from __future__ import annotations

import re
import uuid

from flask import request

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_KEY = "crowd.request_id"
# Ids from a caller's gateway or client are kept when they cannot smuggle anything into logs.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id() -> str:
    """This request's id: the caller's X-Request-Id when sane, else a fresh one."""
    current = request.environ.get(REQUEST_ID_KEY)
    if current is None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        current = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.environ[REQUEST_ID_KEY] = current
    return current
