"""Background jobs: monthly fees of flat-fee members."""

from crowd.core.background import task
from payouts import billing


@task("payouts.bill_monthly_fees")
def bill_monthly_fees(period: str | None = None) -> dict:
    """Bill every flat-fee member's fee for `period` ("YYYY-MM", default this month) once,
    and try failed fees again."""
    return billing.bill_monthly_fees(period=period).as_dict()
