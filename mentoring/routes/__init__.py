"""HTTP for the programmes: one blueprint per area, registered in this order."""

from mentoring.routes.companies import blp as companies_blp
from mentoring.routes.events import blp as events_blp
from mentoring.routes.health import blp as health_blp
from mentoring.routes.mentors import blp as mentors_blp
from mentoring.routes.messages import blp as messages_blp
from mentoring.routes.top_performers import blp as top_performers_blp

blueprints = (
    mentors_blp,
    top_performers_blp,
    events_blp,
    messages_blp,
    health_blp,
    companies_blp,
)
