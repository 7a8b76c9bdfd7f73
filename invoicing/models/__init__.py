"""Invoicing tables: issued documents and their number series; the VAT rates in force."""

from invoicing.models.documents import *  # noqa: F403
from invoicing.models.tax import *  # noqa: F403
