"""The invoicing tables: issued documents and their number series."""

from invoicing.models.documents import *  # noqa: F403
