"""Privacy tables: retention rules and their runs, export requests, erasures."""

from privacy.models.erasure import *  # noqa: F403
from privacy.models.exports import *  # noqa: F403
from privacy.models.retention import *  # noqa: F403
