"""The community managers' web console at /console: server-rendered pages over the same services
the API calls, staff sign-in with server-side sessions, CSRF tokens and TOTP two-factor."""
