"""Customers' saved payment methods: what their jobs' payments are authorised with.

The method is created by the customer's client at the provider (Stripe.js: a PaymentMethod
"pm_…", optionally attached to a provider Customer "cus_…"); we keep its id, one per customer.
A job can be posted without one: its authorisation then waits in `requires_payment_method`,
and saving a method tries it on every payment waiting for one (or whose last method failed).
"""

from __future__ import annotations

from crowd.core.auth import Principal
from crowd.core.i18n import _
from crowd.extensions import db
from customers.service import own_customer
from payouts import job_money
from payouts.errors import PaymentMethodMissing
from payouts.models.job_payments import CustomerPaymentMethod


def get_own_payment_method(*, actor: Principal) -> CustomerPaymentMethod:
    """The calling customer's saved payment method (404 when none is saved)."""
    customer = own_customer(actor)
    method = job_money.saved_method(customer.id)
    if method is None:
        raise PaymentMethodMissing(_("You have no saved payment method yet."))
    return method


def set_own_payment_method(
    *, actor: Principal, payment_method: str, customer_ref: str | None = None
) -> CustomerPaymentMethod:
    """Save the calling customer's payment method and try it on payments waiting for one."""
    customer = own_customer(actor, lock=True)
    method = job_money.saved_method(customer.id)
    if method is None:
        method = CustomerPaymentMethod(customer_id=customer.id, payment_method=payment_method)
        db.session.add(method)
    method.payment_method = payment_method
    method.provider_customer_ref = customer_ref
    db.session.flush()
    job_money.payment_method_changed(customer.id, method)
    return method
