"""One storage interface for uploaded files: a folder of the instance, or S3-compatible storage.

Clients never send file bytes through a storage credential of ours: they get a short-lived
presigned URL to PUT to (and later one to GET from). S3 signs its own; the local folder's are
our own URLs (`/files/local/<token>`, crowd.core.files.routes) carrying an itsdangerous
signature of the key, the operation, the expiry and, for uploads, the size limit.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass, field
from typing import Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from crowd.config import FileStorageSettings
from crowd.core.settings import current

# Keys are ours (uuid-based); anything else is refused before it can name a path.
_KEY = re.compile(r"^[a-z0-9_-]+(/[a-z0-9_.-]+)+$")
_SALT = "crowd.files.local-url"
_CACHE = "crowd.files.storage"


class FileMissing(Exception):
    """No object under the key (never uploaded, or deleted)."""


class TooLarge(Exception):
    """The object is larger than the reader's limit."""


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how the client sends the bytes: `method` to `url` with `headers`."""

    url: str
    method: str = "PUT"
    headers: dict[str, str] = field(default_factory=dict)


class Storage(Protocol):
    """Put, get and delete objects by key; presigned URLs for clients to upload and download."""

    def put(self, key: str, data: bytes, *, content_type: str) -> None: ...

    def get(self, key: str, *, max_bytes: int | None = None) -> bytes:
        """The object's bytes; FileMissing when there is none, TooLarge past `max_bytes`."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; no error when there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def upload_url(
        self, key: str, *, content_type: str, size: int, max_bytes: int, ttl: int
    ) -> PresignedUpload: ...

    def download_url(self, key: str, *, content_type: str, filename: str, ttl: int) -> str: ...


def _check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


def _disposition(filename: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "file"
    return f'inline; filename="{safe}"'


class LocalStorage:
    """Files in a folder (the embedded default); presigned URLs are our own signed URLs."""

    def __init__(self, root: str, secret_key: str) -> None:
        self.root = root
        self._signer = URLSafeSerializer(secret_key, salt=_SALT)

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *_check_key(key).split("/"))

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = f"{path}.partial"
        with open(partial, "wb") as out:
            out.write(data)
        # Whole or not at all: a reader never sees half a file.
        os.replace(partial, path)

    def get(self, key: str, *, max_bytes: int | None = None) -> bytes:
        try:
            with open(self._path(key), "rb") as source:
                data = source.read(-1 if max_bytes is None else max_bytes + 1)
        except FileNotFoundError:
            raise FileMissing(key) from None
        if max_bytes is not None and len(data) > max_bytes:
            raise TooLarge(key)
        return data

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._path(key))

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def _url(self, claims: dict, ttl: int) -> str:
        token = self._signer.dumps({**claims, "exp": int(time.time()) + ttl})
        endpoint = (
            "files_local.local_upload" if claims["op"] == "put" else "files_local.local_download"
        )
        return url_for(endpoint, token=token, _external=True)

    def upload_url(
        self, key: str, *, content_type: str, size: int, max_bytes: int, ttl: int
    ) -> PresignedUpload:
        url = self._url({"op": "put", "key": _check_key(key), "max": max_bytes}, ttl)
        return PresignedUpload(url=url, headers={"Content-Type": content_type})

    def download_url(self, key: str, *, content_type: str, filename: str, ttl: int) -> str:
        claims = {"op": "get", "key": _check_key(key), "ct": content_type}
        return self._url({**claims, "cd": _disposition(filename)}, ttl)

    def claims(self, token: str, op: str) -> dict | None:
        """The signed claims of a local URL for `op`, or None: forged, altered or expired."""
        try:
            claims = self._signer.loads(token)
        except BadSignature:
            return None
        if not isinstance(claims, dict) or claims.get("op") != op:
            return None
        if not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return None
        return claims


class S3Storage:
    """Any S3-compatible object storage through boto3, addressed path-style (self-hosted too)."""

    def __init__(self, settings: FileStorageSettings) -> None:
        self.bucket = settings.s3_bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=_check_key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str, *, max_bytes: int | None = None) -> bytes:
        try:
            if max_bytes is not None:
                head = self.client.head_object(Bucket=self.bucket, Key=_check_key(key))
                if head["ContentLength"] > max_bytes:
                    raise TooLarge(key)
            response = self.client.get_object(Bucket=self.bucket, Key=_check_key(key))
        except ClientError as error:
            if _missing(error):
                raise FileMissing(key) from None
            raise
        body = response["Body"]
        data = body.read(None if max_bytes is None else max_bytes + 1)
        body.close()
        if max_bytes is not None and len(data) > max_bytes:
            raise TooLarge(key)
        return data

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_check_key(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=_check_key(key))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def upload_url(
        self, key: str, *, content_type: str, size: int, max_bytes: int, ttl: int
    ) -> PresignedUpload:
        # The declared size and type are signed: S3 refuses a PUT with other ones.
        params = {
            "Bucket": self.bucket,
            "Key": _check_key(key),
            "ContentType": content_type,
            "ContentLength": size,
        }
        url = self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=ttl)
        return PresignedUpload(url=url, headers={"Content-Type": content_type})

    def download_url(self, key: str, *, content_type: str, filename: str, ttl: int) -> str:
        params = {
            "Bucket": self.bucket,
            "Key": _check_key(key),
            "ResponseContentType": content_type,
            "ResponseContentDisposition": _disposition(filename),
        }
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)


def _missing(error: ClientError) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def file_settings() -> FileStorageSettings:
    """The FILES_* settings in force."""
    return current(FileStorageSettings)


def local_root(settings: FileStorageSettings) -> str:
    return settings.local_directory or os.path.join(current_app.instance_path, "files")


def storage() -> Storage:
    """The storage the settings name, one client per app and settings (boto3's pool kept)."""
    settings = file_settings()
    cache = current_app.extensions.setdefault(_CACHE, {})
    found = cache.get(settings)
    if found is None:
        if settings.storage == "s3":
            found = S3Storage(settings)
        else:
            found = LocalStorage(local_root(settings), current_app.config["SECRET_KEY"])
        cache[settings] = found
    return found
