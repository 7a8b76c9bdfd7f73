"""HTTP for job payments: a customer's payment method, a job's payment, refunds by staff."""

from crowd.core.auth import ROLES, STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from payouts import job_money, payment_methods
from payouts.job_money import reauthorise
from payouts.schemas.payments import (
    JobPaymentSchema,
    PaymentMethodSchema,
    PaymentMethodSetSchema,
    RefundCreateSchema,
    RefundSchema,
)

blp = CrowdBlueprint(
    "payouts_payments",
    __name__,
    url_prefix="/api/v1",
    description="Money: customers' payment methods, job payments and refunds",
)


@blp.route("/me/customer/payment-method", methods=["PUT"])
@blp.auth("customer")
@blp.rate_limited("rate_limit_payments", shared="payments")
@blp.arguments(PaymentMethodSetSchema)
@blp.response(200, PaymentMethodSchema)
@blp.errors(404, 422)
def set_payment_method(data):
    """Save the payment method your jobs are paid with; payments waiting for one try it."""
    return payment_methods.set_own_payment_method(actor=current_principal(), **data)


@blp.route("/me/customer/payment-method", methods=["GET"])
@blp.auth("customer")
@blp.response(200, PaymentMethodSchema)
@blp.errors(404)
def get_payment_method():
    """Your saved payment method."""
    return payment_methods.get_own_payment_method(actor=current_principal())


@blp.route("/jobs/<int:job_id>/payment", methods=["GET"])
@blp.auth(*ROLES)
@blp.response(200, JobPaymentSchema)
@blp.errors(404)
def get_job_payment(job_id):
    """A job's payment: the customer's own job, the assigned member's (their earning), staff."""
    return job_money.payment_view(actor=current_principal(), job_id=job_id)


@blp.route("/jobs/<int:job_id>/payment/refresh", methods=["POST"])
@blp.auth("customer")
@blp.rate_limited("rate_limit_payments", shared="payments")
@blp.response(202, JobPaymentSchema)
@blp.errors(404)
def refresh_job_payment(job_id):
    """Your client completed the bank's authentication (3-D Secure): the payment is looked up
    at the provider right after this answers; read it again at GET /jobs/{id}/payment."""
    reauthorise.request_refresh(actor=current_principal(), job_id=job_id)
    return job_money.payment_view(actor=current_principal(), job_id=job_id)


@blp.route("/staff/jobs/<int:job_id>/refunds", methods=["POST"])
@blp.auth(*STAFF)
@blp.rate_limited("rate_limit_payments", shared="payments")
@blp.idempotent
@blp.arguments(RefundCreateSchema)
@blp.response(202, RefundSchema)
@blp.errors(404, 409, 422)
def create_refund(data, job_id):
    """Refund part or all of a job's captured payment; it is made at the provider right after
    this answers (status pending until then), and its share of the split is reversed."""
    return job_money.request_refund(actor=current_principal(), job_id=job_id, **data)
