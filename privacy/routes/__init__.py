"""HTTP for privacy: one blueprint per area."""

from privacy.routes.erasure import blp as erasure_blp
from privacy.routes.exports import blp as exports_blp
from privacy.routes.retention import blp as retention_blp

blueprints = (exports_blp, erasure_blp, retention_blp)
