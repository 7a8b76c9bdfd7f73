"""HTTP for jobs: one blueprint per audience, registered in this order."""

from jobs.routes.company import blp as company_blp
from jobs.routes.customer import blp as customer_blp
from jobs.routes.dispatch import blp as dispatch_blp
from jobs.routes.matching import blp as matching_blp
from jobs.routes.member import blp as member_blp
from jobs.routes.reviews import blp as reviews_blp
from jobs.routes.staff import blp as staff_blp

blueprints = (
    customer_blp,
    member_blp,
    company_blp,
    staff_blp,
    dispatch_blp,
    matching_blp,
    reviews_blp,
)
