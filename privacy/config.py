"""Privacy settings (PRIVACY_*)."""

from __future__ import annotations
