"""Invoicing tables, one module per area: the VAT rates in force (tax)."""

from invoicing.models.tax import *  # noqa: F403
