"""Android devices through Firebase Cloud Messaging's HTTP v1 API.

`POST {base}/v1/projects/{project}/messages:send` with an OAuth2 access token of a service
account (google-auth signs the JWT-bearer grant and posts it to the account's token_uri; the
token is reused until it nearly expires). Errors as FCM documents them: UNREGISTERED, an
INVALID_ARGUMENT about the token and SENDER_ID_MISMATCH retire the device; QUOTA_EXCEEDED,
UNAVAILABLE and INTERNAL are temporary (Retry-After); anything else is permanent for this
message and leaves the device alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading

import google.auth.exceptions
import httpx
import requests
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from notifications.push.message import PushMessage
from notifications.push.models import Device
from notifications.push.providers.base import Delivery, PushProvider, retry_after_seconds

log = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
TEMPORARY = {"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL", "RESOURCE_EXHAUSTED"}

# One credentials object per service account and process: its access token lives an hour.
_credentials: dict[str, service_account.Credentials] = {}
_credentials_lock = threading.Lock()


class _TimedRequest(Request):
    """google-auth's requests transport with our timeout on the token request."""

    def __init__(self, timeout: float) -> None:
        super().__init__(requests.Session())
        self._timeout = timeout

    def __call__(self, *args, **kwargs):
        kwargs["timeout"] = self._timeout
        return super().__call__(*args, **kwargs)


class FcmProvider(PushProvider):
    name = "fcm"

    def __init__(
        self, *, project_id: str, service_account_json: str, base_url: str, timeout: float
    ) -> None:
        self.project_id = project_id
        self.service_account_json = service_account_json
        self.url = f"{base_url.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self.timeout = timeout

    def _access_token(self, *, renew: bool = False) -> str:
        key = hashlib.sha256(self.service_account_json.encode()).hexdigest()
        with _credentials_lock:
            credentials = _credentials.get(key)
            if credentials is None:
                credentials = service_account.Credentials.from_service_account_info(
                    json.loads(self.service_account_json), scopes=[SCOPE]
                )
                _credentials[key] = credentials
            if renew or not credentials.valid:
                credentials.refresh(_TimedRequest(self.timeout))
            return credentials.token

    def body(self, token: str, message: PushMessage) -> dict:
        """The v1 `message` for one registration token."""
        android: dict = {"priority": "HIGH"}
        if message.collapse_key:
            android["collapse_key"] = message.collapse_key
        if message.badge is not None:
            android["notification"] = {"notification_count": message.badge}
        body: dict = {
            "token": token,
            "notification": {"title": message.title, "body": message.body},
            "data": {**message.data, "kind": message.kind},
            "android": android,
        }
        if message.badge is not None:
            # A token of the iOS app registered through FCM shows the badge too.
            body["apns"] = {"payload": {"aps": {"badge": message.badge}}}
        return {"message": body}

    def send(self, device: Device, message: PushMessage) -> Delivery:
        try:
            response = self._post(device.token, message)
            if response.status_code == 401:
                # The access token was revoked or expired early: one more try with a new one.
                response = self._post(device.token, message, renew=True)
        except google.auth.exceptions.TransportError as error:
            return Delivery("temporary", f"token endpoint unreachable: {error}", retry_after=60)
        except google.auth.exceptions.RefreshError as error:
            log.error("FCM: the service account was refused a token: %s", error)
            return Delivery("permanent", f"service account refused: {error}")
        except httpx.HTTPError as error:
            return Delivery("temporary", f"FCM unreachable: {type(error).__name__}", retry_after=60)
        if response.status_code == 200:
            return Delivery("sent", str(response.json().get("name", "")))
        return _failure(response)

    def _post(self, token: str, message: PushMessage, *, renew: bool = False) -> httpx.Response:
        access_token = self._access_token(renew=renew)
        return httpx.post(
            self.url,
            json=self.body(token, message),
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=self.timeout,
        )


def _failure(response: httpx.Response) -> Delivery:
    """The Delivery for an FCM error response."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    status = error.get("status") or ""
    details = error.get("details") or []
    fcm_code = (
        next((d.get("errorCode") for d in details if d.get("@type") == FCM_ERROR), None) or status
    )
    violations = [
        v.get("field", "")
        for d in details
        if d.get("@type") == BAD_REQUEST
        for v in d.get("fieldViolations") or []
    ]
    detail = f"{fcm_code or response.status_code}: {error.get('message', '')}".strip(": ")
    if fcm_code == "UNREGISTERED":
        return Delivery("permanent", detail, retire_reason="unregistered")
    if fcm_code == "SENDER_ID_MISMATCH":
        return Delivery("permanent", detail, retire_reason="sender_mismatch")
    if fcm_code == "INVALID_ARGUMENT" and (
        "message.token" in violations
        or (not violations and "registration token" in str(error.get("message", "")).lower())
    ):
        return Delivery("permanent", detail, retire_reason="invalid_token")
    if fcm_code in TEMPORARY or response.status_code in (429, 500, 502, 503, 504):
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        return Delivery("temporary", detail, retry_after=retry_after)
    return Delivery("permanent", detail)
