"""The console's own pages: sign-in, two-factor, sign-out, the account page and My work.

Other areas (tickets, people …) are blueprints of their own in console/<area>.py, listed in
`web_blueprints` below (the app factory registers them as plain Flask blueprints)."""

from __future__ import annotations

from flask import current_app, redirect, request, url_for

from accounts import service as accounts
from accounts import throttle
from accounts.errors import SignInFailed
from console import (
    comms,
    dispatch,
    insight,
    onboarding,
    payouts,
    programmes,
    sessions,
    settings,
    tickets,
    twofactor,
    work,
)
from console.companies import blp as companies_blp
from console.errors import StaffOnly, WrongCode
from console.people import blp as people_blp
from console.web import (
    ConsoleBlueprint,
    act_as,
    clear_session_cookie,
    current_session,
    new_csrf_secret,
    render,
    safe_next,
    set_session_cookie,
    signed_in,
)
from crowd.core.auth import STAFF
from crowd.core.db import is_retry
from crowd.core.errors import DomainError, NotFound
from crowd.core.i18n import _
from crowd.core.security import limiter, rate_limit_key

blp = ConsoleBlueprint("console", __name__, template_folder="templates", static_folder="static")


def _sign_in_rate() -> str:
    return current_app.config["CROWD_SETTINGS"].rate_limit_sign_in


# The API's per-address sign-in limit (RATE_LIMIT_SIGN_IN) guards the console's forms too.
limited = limiter.limit(
    _sign_in_rate, key_func=rate_limit_key, exempt_when=is_retry, methods=["POST"]
)


def _form(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _next() -> str:
    return safe_next(request.values.get("next"))


@blp.page("/", public=True)
def index():
    return redirect(url_for("console.my_work"), 303)


# --- signing in -------------------------------------------------------------------------------


@blp.page("/sign-in", methods=("GET", "POST"), public=True)
@limited
def sign_in():
    """Email and password; staff only. The session id is new at every sign-in."""
    if request.method == "GET":
        return render("sign_in.html", next=request.args.get("next", ""))
    email = _form("email")
    try:
        with throttle.keeping_failures():
            user = accounts.check_password(email, request.form.get("password") or "")
        if user.role not in STAFF:
            raise StaffOnly(_("The console is for community managers and admins."))
    except StaffOnly as refused:
        return render("staff_only.html", status=refused.status)
    except (SignInFailed, DomainError) as refused:
        body, status = render(
            "sign_in.html",
            status=refused.status,
            next=request.form.get("next", ""),
            email=email,
            error=refused.detail,
        )
        return body, status, refused.headers or {}
    previous = current_session()
    if previous is not None:
        sessions.revoke(previous[0])
    needs_code = twofactor.required(user)
    secret, row = sessions.start(
        user,
        verified=not needs_code,
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
    )
    if needs_code and not twofactor.enrolled(user.id) and not twofactor.pending_secret(user.id):
        twofactor.begin_enrolment(user.id)
    # A fresh CSRF secret with the fresh session: nothing from before sign-in carries over.
    new_csrf_secret()
    act_as(user, row)  # the sign-in is on the audit log, by the one who signed in
    if needs_code:
        target = url_for("console.two_factor", next=request.form.get("next") or None)
    else:
        target = safe_next(request.form.get("next"))
    response = redirect(target, 303)
    set_session_cookie(response, secret)
    return response


@blp.page("/two-factor", methods=("GET", "POST"), pending=True)
@limited
def two_factor():
    """The second step: a code from the authenticator app or a recovery code."""
    me = signed_in()
    if not twofactor.enrolled(me.user.id):
        return redirect(url_for("console.enrol", next=request.args.get("next") or None), 303)
    if request.method == "GET":
        return render("two_factor.html", next=request.args.get("next", ""))
    try:
        with throttle.keeping_failures():
            kind = twofactor.verify(me.user.id, _form("code"))
    except DomainError as refused:
        body, status = render(
            "two_factor.html", status=refused.status, next=_form("next"), error=refused.detail
        )
        return body, status, refused.headers or {}
    response = redirect(
        url_for("console.account", recovery_used=1) if kind == "recovery" else _next(), 303
    )
    _complete(response)
    return response


def _complete(response) -> None:
    """The second factor passed: the pending session is replaced by a full one (new id)."""
    me = signed_in()
    sessions.revoke(me.session)
    secret, row = sessions.start(
        me.user,
        verified=True,
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
    )
    act_as(me.user, row)
    new_csrf_secret()
    set_session_cookie(response, secret)


@blp.page("/two-factor/enrol", methods=("GET", "POST"), pending=None)
@limited
def enrol():
    """Set up the authenticator app: a QR code (and the secret to type in), then one code."""
    me = signed_in()
    if twofactor.enrolled(me.user.id):
        return redirect(url_for("console.account"), 303)
    secret = twofactor.pending_secret(me.user.id)
    if request.method == "GET":
        return _enrol_page(secret)
    try:
        with throttle.keeping_failures():
            codes = twofactor.confirm_enrolment(me.user.id, _form("code"))
    except WrongCode as refused:
        body, status = _enrol_page(secret, error=refused.detail, status=refused.status)
        return body, status, refused.headers or {}
    except DomainError as refused:
        body, status = _enrol_page(secret, error=refused.detail, status=refused.status)
        return body, status, refused.headers or {}
    body, status = render("recovery_codes.html", codes=codes, next=_next())
    response = current_app.make_response((body, status))
    if me.session.verified_at is None:
        _complete(response)
    return response


def _enrol_page(secret: str | None, *, error: str | None = None, status: int = 200):
    me = signed_in()
    uri = twofactor.provisioning_uri(me.user, secret) if secret else None
    return render(
        "enrol.html",
        status=status,
        secret=secret,
        qr=twofactor.qr_svg(uri) if uri else None,
        error=error,
        next=request.values.get("next", ""),
    )


@blp.page("/two-factor/enrol/new", methods=("POST",), pending=None)
def new_secret():
    """Start the enrolment again with a new secret (e.g. the QR code was lost)."""
    me = signed_in()
    if not twofactor.enrolled(me.user.id):
        twofactor.begin_enrolment(me.user.id)
    return redirect(url_for("console.enrol"), 303)


# --- signing out ------------------------------------------------------------------------------


@blp.page("/sign-out", methods=("POST",), pending=None)
def sign_out():
    sessions.revoke(signed_in().session)
    return _signed_out()


@blp.page("/sign-out-everywhere", methods=("POST",))
def sign_out_everywhere():
    """End every console session of the user, in every browser (this one too)."""
    sessions.revoke_all(signed_in().user.id)
    return _signed_out()


@blp.page("/language", methods=("POST",), pending=None)
def language():
    """Save the staff member's language (de or en), as PATCH /api/v1/me does; back to the page."""
    chosen = request.form.get("locale")
    if chosen not in ("de", "en"):
        raise NotFound(_("No such language."))
    accounts.set_locale(signed_in().user.id, chosen)
    return redirect(safe_next(request.form.get("next")), 303)


def _signed_out():
    new_csrf_secret()
    response = redirect(url_for("console.sign_in", signed_out=1), 303)
    clear_session_cookie(response)
    return response


@blp.page("/account")
def account():
    me = signed_in()
    return render(
        "account.html",
        live_sessions=sessions.live_sessions(me.user.id),
        enrolled=twofactor.enrolled(me.user.id),
        recovery_left=twofactor.remaining_recovery_codes(me.user.id),
        recovery_used=bool(request.args.get("recovery_used")),
    )


# --- my work ----------------------------------------------------------------------------------


@blp.page("/my-work")
def my_work():
    """My tickets by SLA deadline, unassigned tickets of my queues, escalated jobs, chargebacks."""
    return render("my_work.html", work=work.my_work(signed_in().principal))


@blp.page("/my-work/counts", touch=False)
def nav_counts():
    """The nav's badges as a fragment (htmx polls it); polling is not use of the session."""
    return render("_counts.html", counts=work.counts(signed_in().principal))


@blp.page("/<path:unknown>", methods=("GET", "POST"), public=True)
def not_found(unknown):
    """Any other console address: the console's own 404 page (not the API's problem+json)."""
    raise NotFound(_("No such page in the console."))


web_blueprints = (
    blp,
    people_blp,
    companies_blp,
    tickets.blp,
    dispatch.blp,
    onboarding.blp,
    programmes.blp,
    comms.blp,
    insight.blp,
    payouts.blp,
    settings.blp,
)
