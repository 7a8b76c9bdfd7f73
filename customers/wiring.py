"""What customers plugs into lower packages: the caller's customer profile on the principal, and
the company name among the words a password must not be built from."""

from sqlalchemy import select

from accounts.authentication import add_profile
from accounts.models import User
from accounts.passwords import add_known_names
from crowd.extensions import db
from customers.models import Customer

add_profile(
    "customer_id",
    lambda: select(Customer.id).where(Customer.user_id == User.id).scalar_subquery(),
)


def _company_name(user_id: int) -> list[str]:
    name = db.session.scalar(select(Customer.company_name).where(Customer.user_id == user_id))
    return [name] if name else []


# A customer's password should not be built from their company's name either.
add_known_names(_company_name)
