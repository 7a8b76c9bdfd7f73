"""Push notifications to the members' and customers' mobile apps: their devices, one interface
over the providers (FCM for Android, APNs for iOS, an offline outbox by default), and the
message a notification becomes. `send_to_user` is the entry point (notifications.push.sender).
"""
