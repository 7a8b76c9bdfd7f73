"""The push providers behind one interface (base.PushProvider): `provider_for(platform)` is
the offline outbox under PUSH_PROVIDER=offline (the embedded default), else FCM for Android
and APNs for iOS, built from the PUSH_* settings."""

from __future__ import annotations

from notifications.config import PushSettings, push_settings, read_inline_or_file
from notifications.push.providers.apns import ApnsProvider
from notifications.push.providers.base import Delivery, PushProvider
from notifications.push.providers.fcm import FcmProvider
from notifications.push.providers.offline import OfflineProvider

__all__ = ["Delivery", "PushProvider", "provider_for"]


def provider_for(platform: str, settings: PushSettings | None = None) -> PushProvider:
    """The provider that delivers to devices of `platform` under the settings in force."""
    settings = settings or push_settings()
    if settings.provider == "offline":
        return OfflineProvider()
    if platform == "android":
        return FcmProvider(
            project_id=settings.fcm_project_id,
            service_account_json=read_inline_or_file(settings.fcm_service_account),
            base_url=settings.fcm_base_url,
            timeout=settings.timeout_seconds,
        )
    return ApnsProvider(
        key_id=settings.apns_key_id,
        team_id=settings.apns_team_id,
        private_key=read_inline_or_file(settings.apns_private_key),
        topic=settings.apns_topic,
        base_url=settings.apns_base_url,
        timeout=settings.timeout_seconds,
        ca_file=settings.apns_ca_file,
    )
