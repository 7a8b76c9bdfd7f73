"""How a console page is made: `ConsoleBlueprint` and its `page` decorator.

Every console blueprint checks the CSRF token of each form post (and the Origin, when the
browser sends one), answers errors as HTML pages, and sends the console's Content-Security-
Policy (nothing from outside: default-src 'self'). `@blp.page(rule)` adds a view that needs a
signed-in staff member whose sign-in is complete (second factor passed): it puts the caller's
`Principal` where the API's views find theirs (`crowd.core.auth.current_principal()`), so a view
calls the same service functions the API routes call, and the staff audit log records every
console POST with its actor, as it does for the API. A view reads who is signed in with
`signed_in()` and renders with `render("page.html", **context)`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from accounts.models import User
from console import sessions, work
from console.config import console_settings
from console.errors import CsrfFailed
from console.labels import state_label
from console.models import ConsoleSession
from crowd.core.auth import STAFF, Principal
from crowd.core.db import SAFE_METHODS, commit
from crowd.core.errors import DomainError
from crowd.core.i18n import use_user_locale

try:  # Flask-Babel, once the app initialises it; until then texts pass through as written.
    from flask_babel import get_locale as _babel_locale
    from flask_babel import gettext as _babel_gettext
except ImportError:  # pragma: no cover - the package is in requirements
    _babel_gettext = _babel_locale = None

SESSION_COOKIE = "crowd_console"
# Flask's own (signed) session cookie carries only the CSRF token's secret (Flask-WTF).
CSRF_COOKIE = "crowd_console_csrf"
COOKIE_PATH = "/console"
CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_PRINCIPAL = "crowd.principal"  # where crowd.core.auth keeps the request's principal
# Per request, not in `g`: an app context may outlive one request (tests keep one open).
_FOUND = "crowd.console.session"
_SIGNED_IN = "crowd.console.signed_in"


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    endpoint: str
    # Further blueprints whose pages belong to this area (the item is marked current there).
    also: tuple[str, ...] = ()
    # Who sees the item (None: all staff); the page itself checks the same roles.
    roles: tuple[str, ...] | None = None

    def covers(self, endpoint: str | None) -> bool:
        """Whether a page of `endpoint` belongs to this area."""
        if endpoint is None:
            return False
        blueprint = endpoint.split(".")[0]
        return blueprint in (self.endpoint.split(".")[0], *self.also)

    def shown_to(self, role: str) -> bool:
        return self.roles is None or role in self.roles


# The console's areas. A link shows once its endpoint exists; until then the item says
# "coming". Pages of an area are built in console/<area>.py with a blueprint of that name.
NAV = (
    NavItem("my_work", "My work", "console.my_work"),
    NavItem("tickets", "Tickets", "console_tickets.index"),
    NavItem("people", "People", "console_people.index", also=("console_companies",)),
    NavItem("dispatch", "Dispatch", "console_dispatch.index"),
    NavItem("onboarding", "Onboarding", "console_onboarding.index"),
    NavItem("programmes", "Programmes", "console_programmes.index", also=("console_comms",)),
    NavItem("insight", "Insight", "console_insight.index"),
    # The API's payout runs and settings changes are admins' (GET /payouts/runs, PATCH /settings).
    NavItem("payouts", "Payouts", "console_payouts.index", roles=("admin",)),
    NavItem("settings", "Settings", "console_settings.index", roles=("admin",)),
)


@dataclass(frozen=True)
class SignedIn:
    """Who is using the console in this request."""

    user: User
    session: ConsoleSession
    principal: Principal


# --- texts --------------------------------------------------------------------------------


def gettext(text: str, **values) -> str:
    """`_()` in templates and views: Flask-Babel's gettext when the app set Babel up, else the
    text as written (English message ids), with %(name)s values filled in."""
    if _babel_gettext is not None and "babel" in current_app.extensions:
        return _babel_gettext(text, **values)
    return text % values if values else text


_ = gettext


def locale() -> str:
    if _babel_locale is not None and "babel" in current_app.extensions:
        return str(_babel_locale() or "en")
    return "en"


# --- cookies ------------------------------------------------------------------------------


def _loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cookie_secure() -> bool:
    """Secure cookies (CONSOLE_COOKIE_SECURE), except over plain HTTP to a loopback address,
    which only a developer's own machine serves (behind a proxy, TRUSTED_PROXIES makes the
    request HTTPS and the host the public one)."""
    if not console_settings().cookie_secure:
        return False
    return request.is_secure or not _loopback(request.host)


class _CsrfCookieSession(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure by the console's rule."""

    def get_cookie_secure(self, app: Flask) -> bool:
        # Asked on every request; only the console's set this cookie (the API never does).
        if not request.path.startswith(COOKIE_PATH):
            return True
        return cookie_secure()


def new_csrf_secret() -> None:
    """Forget the CSRF secret: the next form gets a new one (at sign-in and sign-out)."""
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)  # Flask-WTF's copy for this request


def set_session_cookie(response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        path=COOKIE_PATH,
        secure=cookie_secure(),
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=COOKIE_PATH, secure=cookie_secure(), httponly=True, samesite="Lax"
    )


# --- the blueprint ------------------------------------------------------------------------


def _setup_app(state) -> None:
    app = state.app
    app.session_interface = _CsrfCookieSession()
    app.config.update(
        SESSION_COOKIE_NAME=CSRF_COOKIE,
        SESSION_COOKIE_PATH=COOKIE_PATH,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The token lives as long as the Flask session; it is replaced at sign-in and sign-out.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.jinja_env.globals.setdefault("_", gettext)
    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)
    # A domain state's words ("in_progress" → "in progress", in the page's language).
    app.jinja_env.filters.setdefault("state", state_label)


class ConsoleBlueprint(Blueprint):
    """A blueprint of console pages under /console (see the module docstring)."""

    def __init__(self, name: str, import_name: str, url_prefix: str = "/console", **options):
        super().__init__(name, import_name, url_prefix=url_prefix, **options)
        self.record_once(_setup_app)
        self.before_request(_check_csrf)
        self.after_request(_page_headers)
        self.context_processor(_page_context)
        self.register_error_handler(DomainError, _domain_error_page)
        self.register_error_handler(HTTPException, _http_error_page)

    def page(
        self,
        rule: str,
        *,
        methods: tuple[str, ...] = ("GET",),
        roles: tuple[str, ...] = STAFF,
        endpoint: str | None = None,
        public: bool = False,
        pending: bool | None = False,
        touch: bool = True,
    ) -> Callable:
        """Add a view at `rule` for signed-in staff of `roles`.

        public: no sign-in needed (the sign-in pages). pending=True: only before the second
        factor passed (the two-factor pages); None: before and after. touch=False: a
        background poll, which does not count as use (the idle timeout keeps running).
        """

        def decorator(view: Callable) -> Callable:
            @wraps(view)
            def wrapped(**kwargs):
                if not public:
                    refused = _require_staff(roles=roles, pending=pending, touch=touch)
                    if refused is not None:
                        return refused
                return view(**kwargs)

            self.add_url_rule(rule, endpoint or view.__name__, wrapped, methods=list(methods))
            return wrapped

        return decorator


def signed_in() -> SignedIn:
    """The signed-in staff member of this request (views of `page` always have one)."""
    return request.environ[_SIGNED_IN]


def render(template: str, *, status: int = 200, **context) -> tuple[str, int]:
    """Render console/<template> with the layout's context."""
    return render_template(f"console/{template}", **context), status


def safe_next(target: str | None) -> str:
    """A redirect target after sign-in: a path inside the console only, else My work."""
    if target and target.startswith(COOKIE_PATH + "/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("console.my_work")


def current_session() -> tuple[ConsoleSession, User] | None:
    """The live console session of the request's cookie, if any (cached per request)."""
    if _FOUND not in request.environ:
        # Another cookie of the same name (e.g. planted for a longer path) may come first: the
        # one that names a live session counts.
        found = None
        for secret in request.cookies.getlist(SESSION_COOKIE)[:3]:
            found = sessions.find(secret)
            if found is not None:
                break
        request.environ[_FOUND] = found
    return request.environ[_FOUND]


def act_as(user: User, row: ConsoleSession) -> SignedIn:
    """Make `user` (through console session `row`) the request's principal: services and the
    audit log see them as they see an API caller."""
    principal = Principal(user_id=user.id, role=user.role, token_id=row.id, via="console")
    request.environ[_PRINCIPAL] = principal
    # The console speaks the staff member's saved language, as the API does.
    use_user_locale(user.locale)
    request.environ[_SIGNED_IN] = SignedIn(user=user, session=row, principal=principal)
    return request.environ[_SIGNED_IN]


def _require_staff(*, roles: tuple[str, ...], pending: bool | None, touch: bool) -> Response | None:
    found = current_session()
    if found is None:
        return _to_sign_in()
    row, user = found
    if row.verified_at is None and pending is False:
        return redirect(url_for("console.two_factor"), 303)
    if row.verified_at is not None and pending is True:
        return redirect(url_for("console.my_work"), 303)
    if user.role not in roles:
        return _error_response(
            403, _("Forbidden"), _("This page is for: %(roles)s.", roles=", ".join(roles))
        )
    act_as(user, row)
    if touch and sessions.due_for_touch(row):
        # Its own small commit: a page view (GET) rolls its unit of work back.
        sessions.touch(row)
        commit()
    return None


def _to_sign_in() -> Response:
    target = url_for("console.sign_in", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request"):
        # htmx swaps fragments: have it load the sign-in page as a whole.
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


def _check_csrf() -> None:
    # Flask-WTF keeps the request's token in `g`, which outlives a request where an app
    # context spans several (tests): each request derives its own from its own cookie.
    g.pop("csrf_token", None)
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise CsrfFailed(_("The form was sent from another site."))
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except ValidationError:
        raise CsrfFailed(
            _("The form has expired or was not sent from this console. Reload and try again.")
        ) from None


def _page_headers(response: Response) -> Response:
    # A response may bring a stricter policy of its own (the insight charts' SVG documents).
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page_context() -> dict:
    console = request.environ.get(_SIGNED_IN)
    return {
        "nav": [
            {
                "key": item.key,
                "label": gettext(item.label),
                "url": url_for(item.endpoint)
                if item.endpoint in current_app.view_functions
                else None,
                "current": item.covers(request.endpoint)
                and (item.key != "my_work" or request.endpoint == item.endpoint),
            }
            for item in NAV
            if console is not None and item.shown_to(console.user.role)
        ],
        "signed_in": console,
        "locale": locale(),
        # Called by the layout only (fragments do not pay for it).
        "nav_counts": (lambda: work.counts(console.principal)) if console else None,
    }


def _error_response(status: int, title: str, detail: str, headers=None) -> Response:
    body = render_template("console/error.html", status=status, title=title, detail=detail)
    return Response(body, status=status, headers=headers, mimetype="text/html")


def _domain_error_page(error: DomainError) -> Response:
    if error.status == 401 and current_session() is None:
        return _to_sign_in()
    return _error_response(error.status, gettext(error.title), gettext(error.detail), error.headers)


def _http_error_page(error: HTTPException) -> Response:
    allow = {"Allow": error.valid_methods} if getattr(error, "valid_methods", None) else None
    headers = {"Allow": ", ".join(allow["Allow"])} if allow else None
    return _error_response(error.code or 500, error.name, error.description or "", headers)
