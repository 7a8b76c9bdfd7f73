"""Programme tables: mentors and mentorships, top performers, events, segment messages."""

from mentoring.models.events import *  # noqa: F403
from mentoring.models.mentors import *  # noqa: F403
from mentoring.models.messages import *  # noqa: F403
from mentoring.models.top_performers import *  # noqa: F403
