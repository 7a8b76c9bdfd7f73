from tests.push_fake import (  # noqa: F401  (fixtures)
    apns_fake,
    apns_fake_server,
    fcm_fake,
    fcm_fake_server,
    live_push,
)
