"""Device tokens as the apps report them, and registering them through the API."""

from __future__ import annotations

import itertools
import secrets

DEVICES = "/api/v1/me/devices"
_numbers = itertools.count(1)


def ios_token() -> str:
    return secrets.token_hex(32)


def android_token() -> str:
    # FCM registration tokens look like <instance id>:APA91b<…>, ~160 characters.
    return f"f{next(_numbers):05d}{secrets.token_hex(4)}:APA91b" + secrets.token_urlsafe(110)


def register(client, actor, platform: str, token: str | None = None, **fields):
    body = {
        "platform": platform,
        "token": token or (ios_token() if platform == "ios" else android_token()),
        "app_version": "2.4.1",
        "locale": "de-DE",
        **fields,
    }
    return client.post(DEVICES, json=body, headers=actor.headers)
