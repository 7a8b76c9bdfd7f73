"""Local fakes of FCM's HTTP v1 API and of APNs, for the real clients to talk to.

`FakeFcm` is a WSGI app served by werkzeug on 127.0.0.1 (random port) in a thread: an OAuth2
token endpoint that takes the JWT-bearer grant only when the assertion is signed with the test
service account's key (RS256, audience Google's token endpoint, the FCM scope), and
`POST /v1/projects/{project}/messages:send` that takes only its access tokens, records each
message, and answers a token told to fail (`fail_token`) with FCM's error body.

`FakeApns` is an ASGI app served by hypercorn over TLS with HTTP/2 (ALPN h2; a self-signed
certificate for 127.0.0.1 made here): `POST /3/device/{token}` takes only an ES256 provider
token signed with the test key (kid, iss = team), records the request (HTTP version, headers,
payload), and answers a token told to fail with APNs' status and reason.

Fixtures: `fcm_fake`, `apns_fake` (servers, state reset per test) and `live_push` (the app
pointed at both: PUSH_PROVIDER=live).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import itertools
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

FCM_PROJECT = "crowd-test"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
APNS_KEY_ID = "ABC123DEFG"
APNS_TEAM_ID = "TEAM123456"
APNS_TOPIC = "test.crowd.app"


def _pem_private(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


SERVICE_ACCOUNT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
APNS_KEY = ec.generate_private_key(ec.SECP256R1())
# Another key of the right kind: what a wrong .p8 file would be.
OTHER_APNS_KEY = ec.generate_private_key(ec.SECP256R1())
APNS_KEY_PEM = _pem_private(APNS_KEY)
OTHER_APNS_KEY_PEM = _pem_private(OTHER_APNS_KEY)

# FCM's error bodies by error code (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode).
FCM_ERRORS = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
}


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status, headers or {}, mimetype="application/json")


# --- FCM ---------------------------------------------------------------------------------


@dataclass
class FcmMessage:
    project: str
    message: dict
    authorization: str


@dataclass
class FakeFcm:
    messages: list[FcmMessage] = field(default_factory=list)
    token_grants: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    failures: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def start(self) -> FakeFcm:
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def reset(self) -> None:
        # Access tokens stay valid: the client keeps them across tests, as across sends.
        self.messages.clear()
        self.token_grants.clear()
        self.refused.clear()
        self.failures.clear()

    def revoke_access_tokens(self) -> None:
        self.access_tokens.clear()

    def fail_token(self, token: str, code: str, *, retry_after: int | None = None) -> None:
        """Answer every message to `token` with FCM's error `code` (see FCM_ERRORS)."""
        self.failures[token] = (code, retry_after)

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def service_account(self, key=SERVICE_ACCOUNT_KEY) -> dict:
        return {
            "type": "service_account",
            "project_id": FCM_PROJECT,
            "private_key_id": "test-key-1",
            "private_key": _pem_private(key),
            "client_email": f"push@{FCM_PROJECT}.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": self.token_uri,
        }

    def sent_to(self, token: str) -> list[dict]:
        return [m.message for m in self.messages if m.message.get("token") == token]

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.method == "POST" and request.path == "/token":
            response = self._token(request)
        elif request.method == "POST" and request.path.endswith("/messages:send"):
            response = self._send(request)
        else:
            response = _json(404, {"error": {"code": 404, "status": "NOT_FOUND"}})
        return response(environ, start_response)

    def _token(self, request: Request) -> Response:
        form = request.form
        try:
            if form.get("grant_type") != JWT_BEARER:
                raise jwt.InvalidTokenError(f"grant_type {form.get('grant_type')}")
            claims = jwt.decode(
                form.get("assertion", ""),
                SERVICE_ACCOUNT_KEY.public_key(),
                algorithms=["RS256"],
                # google-auth addresses the grant to Google's endpoint wherever it posts it.
                audience=GOOGLE_TOKEN_AUDIENCE,
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
            if FCM_SCOPE not in str(claims.get("scope", "")).split():
                raise jwt.InvalidTokenError("scope")
        except jwt.InvalidTokenError as error:
            self.refused.append({"endpoint": "token", "why": str(error)})
            return _json(400, {"error": "invalid_grant", "error_description": str(error)})
        self.token_grants.append(claims)
        access_token = f"ya29.fake-{uuid.uuid4().hex}"
        self.access_tokens.add(access_token)
        return _json(
            200, {"access_token": access_token, "expires_in": 3600, "token_type": "Bearer"}
        )

    def _send(self, request: Request) -> Response:
        authorization = request.headers.get("Authorization", "")
        if authorization.removeprefix("Bearer ") not in self.access_tokens:
            self.refused.append({"endpoint": "send", "why": "access token"})
            return _json(
                401,
                {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "bad token"}},
            )
        project = request.path.split("/")[3]
        if project != FCM_PROJECT:
            return _json(403, {"error": {"code": 403, "status": "PERMISSION_DENIED"}})
        message = (request.get_json(silent=True) or {}).get("message") or {}
        data = message.get("data") or {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            # FCM takes string values only (its docs' first error example).
            return _json(
                400,
                {
                    "error": {
                        "code": 400,
                        "status": "INVALID_ARGUMENT",
                        "message": "Invalid value at 'message.data[0].value' (TYPE_STRING)",
                        "details": [
                            {
                                "@type": "type.googleapis.com/google.rpc.BadRequest",
                                "fieldViolations": [{"field": "message.data[0].value"}],
                            }
                        ],
                    }
                },
            )
        token = message.get("token", "")
        if token in self.failures:
            code, retry_after = self.failures[token]
            status, status_name, text = FCM_ERRORS[code]
            body = {
                "error": {
                    "code": status,
                    "message": text,
                    "status": status_name,
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                            "errorCode": code,
                        }
                    ],
                }
            }
            headers = {"Retry-After": str(retry_after)} if retry_after else {}
            return _json(status, body, headers)
        self.messages.append(FcmMessage(project, message, authorization))
        return _json(200, {"name": f"projects/{project}/messages/{next(self._ids)}"})


# --- APNs --------------------------------------------------------------------------------


@dataclass
class ApnsRequest:
    http_version: str
    token: str
    headers: dict
    payload: dict


def self_signed_certificate(directory) -> tuple[str, str]:
    """(certificate file, key file) for 127.0.0.1 and localhost; the certificate is its own
    CA, so a client trusts it with it as the CA bundle."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-apns.local")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "apns-fake.pem", directory / "apns-fake.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_text(_pem_private(key))
    return str(cert_file), str(key_file)


@dataclass
class FakeApns:
    requests: list[ApnsRequest] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    failures: dict[str, tuple[int, str, int | None]] = field(default_factory=dict)
    provider_tokens: list[str] = field(default_factory=list)
    # Provider tokens APNs calls too old (ExpiredProviderToken).
    expired_tokens: set[str] = field(default_factory=set)

    def start(self, directory) -> FakeApns:
        self.ca_file, key_file = self_signed_certificate(directory)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = Config()
        config.bind = [f"127.0.0.1:{port}"]
        config.certfile, config.keyfile = self.ca_file, key_file
        config.alpn_protocols = ["h2"]
        config.accesslog = None
        config.errorlog = None
        self.url = f"https://127.0.0.1:{port}"
        self._loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()

        def run():
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(
                serve(self, config, shutdown_trigger=self._stopping.wait, mode="asgi")
            )

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the APNs fake did not start")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=5)

    def reset(self) -> None:
        self.requests.clear()
        self.refused.clear()
        self.failures.clear()
        self.provider_tokens.clear()
        self.expired_tokens.clear()

    def expire_provider_tokens(self) -> None:
        """Every provider token used so far is refused from now on as expired."""
        self.expired_tokens.update(self.provider_tokens)

    def fail_token(
        self, token: str, status: int, reason: str, *, retry_after: int | None = None
    ) -> None:
        """Answer every push to `token` with `status` and `{"reason": reason}`."""
        self.failures[token] = (status, reason, retry_after)

    def sent_to(self, token: str) -> list[ApnsRequest]:
        return [r for r in self.requests if r.token == token]

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, answer, extra = self._answer(scope, headers, body)
        response_headers = [(b"apns-id", str(uuid.uuid4()).encode())]
        response_headers += [(k.encode(), v.encode()) for k, v in extra.items()]
        payload = json.dumps(answer).encode() if answer else b""
        if payload:
            response_headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})

    def _answer(self, scope, headers: dict, body: bytes) -> tuple[int, dict | None, dict]:
        path = scope["path"]
        if scope["method"] != "POST":
            return 405, {"reason": "MethodNotAllowed"}, {}
        if not path.startswith("/3/device/"):
            return 404, {"reason": "BadPath"}, {}
        token = path.removeprefix("/3/device/")
        provider_token = headers.get("authorization", "").removeprefix("bearer ")
        try:
            header = jwt.get_unverified_header(provider_token)
            claims = jwt.decode(
                provider_token,
                APNS_KEY.public_key(),
                algorithms=["ES256"],
                options={"require": ["iss", "iat"], "verify_iat": False},
            )
            if header.get("kid") != APNS_KEY_ID or claims["iss"] != APNS_TEAM_ID:
                raise jwt.InvalidTokenError("kid or iss")
        except jwt.InvalidTokenError as error:
            self.refused.append({"token": token, "why": str(error)})
            return 403, {"reason": "InvalidProviderToken"}, {}
        if provider_token in self.expired_tokens:
            return 403, {"reason": "ExpiredProviderToken"}, {}
        self.provider_tokens.append(provider_token)
        if headers.get("apns-topic") != APNS_TOPIC:
            return 400, {"reason": "TopicDisallowed"}, {}
        if headers.get("apns-push-type") not in ("alert", "background"):
            return 400, {"reason": "InvalidPushType"}, {}
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {"reason": "PayloadEmpty"}, {}
        if token in self.failures:
            status, reason, retry_after = self.failures[token]
            answer = {"reason": reason}
            if status == 410:
                answer["timestamp"] = int(time.time() * 1000)
            return status, answer, {"retry-after": str(retry_after)} if retry_after else {}
        self.requests.append(ApnsRequest(scope["http_version"], token, headers, payload))
        return 200, None, {}


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fcm_fake_server():
    fake = FakeFcm().start()
    yield fake
    fake.stop()


@pytest.fixture
def fcm_fake(fcm_fake_server) -> FakeFcm:
    fcm_fake_server.reset()
    return fcm_fake_server


@pytest.fixture(scope="session")
def apns_fake_server(tmp_path_factory):
    fake = FakeApns().start(tmp_path_factory.mktemp("apns"))
    yield fake
    fake.stop()


@pytest.fixture
def apns_fake(apns_fake_server) -> FakeApns:
    apns_fake_server.reset()
    return apns_fake_server


@pytest.fixture
def live_push(app, monkeypatch, fcm_fake, apns_fake):
    """The app pushing through the fakes: PUSH_PROVIDER=live, FCM and APNs pointed at them."""
    settings = {
        "PUSH_PROVIDER": "live",
        "PUSH_FCM_PROJECT_ID": FCM_PROJECT,
        "PUSH_FCM_SERVICE_ACCOUNT": json.dumps(fcm_fake.service_account()),
        "PUSH_FCM_BASE_URL": fcm_fake.url,
        "PUSH_APNS_KEY_ID": APNS_KEY_ID,
        "PUSH_APNS_TEAM_ID": APNS_TEAM_ID,
        "PUSH_APNS_PRIVATE_KEY": APNS_KEY_PEM,
        "PUSH_APNS_TOPIC": APNS_TOPIC,
        "PUSH_APNS_BASE_URL": apns_fake.url,
        "PUSH_APNS_CA_FILE": apns_fake.ca_file,
        "PUSH_TIMEOUT_SECONDS": 5,
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    return settings
