"""iOS devices through the Apple Push Notification service (HTTP/2, token-based auth).

`POST {base}/3/device/{token}` over HTTP/2 with an ES256 JWT (kid: the key id, iss: the team
id, iat), signed once and reused for 50 minutes (APNs refuses tokens older than an hour and
ones renewed more often than every 20 minutes). Headers apns-topic, apns-push-type alert,
apns-priority 10 and apns-collapse-id; the payload is `aps` (alert, badge, sound) and the
deep-link data beside it. 410 (Unregistered) and 400 BadDeviceToken / DeviceTokenNotForTopic
retire the device; 429, 500 and 503 are temporary; ExpiredProviderToken renews the JWT once.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
import time

import httpx
import jwt

from notifications.push.message import PushMessage
from notifications.push.models import Device
from notifications.push.providers.base import Delivery, PushProvider, retry_after_seconds

JWT_LIFETIME = 50 * 60
RETIRE = {
    "Unregistered": "unregistered",
    "ExpiredToken": "unregistered",
    "BadDeviceToken": "invalid_token",
    "DeviceTokenNotForTopic": "invalid_token",
}
TEMPORARY_STATUSES = (429, 500, 502, 503, 504)

_jwts: dict[str, tuple[str, float]] = {}
_clients: dict[tuple, httpx.Client] = {}
_lock = threading.Lock()


class ApnsProvider(PushProvider):
    name = "apns"

    def __init__(
        self,
        *,
        key_id: str,
        team_id: str,
        private_key: str,
        topic: str,
        base_url: str,
        timeout: float,
        ca_file: str | None = None,
    ) -> None:
        self.key_id = key_id
        self.team_id = team_id
        self.private_key = private_key
        self.topic = topic
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.ca_file = ca_file

    def provider_token(self, *, renew: bool = False) -> str:
        """The JWT APNs authenticates us by, signed anew every JWT_LIFETIME seconds."""
        fingerprint = hashlib.sha256(self.private_key.encode()).hexdigest()[:16]
        key = f"{self.team_id}:{self.key_id}:{fingerprint}"
        now = time.time()
        with _lock:
            cached = _jwts.get(key)
            if cached and not renew and now - cached[1] < JWT_LIFETIME:
                return cached[0]
            token = jwt.encode(
                {"iss": self.team_id, "iat": int(now)},
                self.private_key,
                algorithm="ES256",
                headers={"kid": self.key_id},
            )
            _jwts[key] = (token, now)
            return token

    def _client(self) -> httpx.Client:
        """One HTTP/2 connection pool per endpoint and process: APNs wants connections kept."""
        key = (self.base_url, self.ca_file, self.timeout)
        with _lock:
            client = _clients.get(key)
            if client is None:
                verify = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True
                client = httpx.Client(http2=True, verify=verify, timeout=self.timeout)
                _clients[key] = client
            return client

    def payload(self, message: PushMessage) -> dict:
        aps: dict = {"alert": {"title": message.title, "body": message.body}, "sound": "default"}
        if message.badge is not None:
            aps["badge"] = message.badge
        return {**message.data, "kind": message.kind, "aps": aps}

    def headers(self, message: PushMessage, *, renew: bool = False) -> dict:
        headers = {
            "authorization": f"bearer {self.provider_token(renew=renew)}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
        }
        if message.collapse_key:
            headers["apns-collapse-id"] = message.collapse_key
        return headers

    def send(self, device: Device, message: PushMessage) -> Delivery:
        url = f"{self.base_url}/3/device/{device.token}"
        body = json.dumps(self.payload(message), separators=(",", ":")).encode()
        try:
            response = self._client().post(url, content=body, headers=self.headers(message))
            if response.status_code == 403 and _reason(response) == "ExpiredProviderToken":
                headers = self.headers(message, renew=True)
                response = self._client().post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return Delivery(
                "temporary", f"APNs unreachable: {type(error).__name__}", retry_after=60
            )
        if response.status_code == 200:
            return Delivery("sent", response.headers.get("apns-id", ""))
        reason = _reason(response)
        detail = f"{response.status_code} {reason}".strip()
        if response.status_code == 410 or reason in RETIRE:
            return Delivery("permanent", detail, retire_reason=RETIRE.get(reason, "unregistered"))
        if response.status_code in TEMPORARY_STATUSES:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            return Delivery("temporary", detail, retry_after=retry_after)
        return Delivery("permanent", detail)


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("reason", ""))
    except ValueError:
        return ""
