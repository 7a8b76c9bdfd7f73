"""Background work of privacy: exports (assembling the archive, deleting it when its time is up)."""

from __future__ import annotations

from crowd.core.background import task
from privacy.export import service


@task(service.BUILD_TASK)
def build_export(export_id: int) -> None:
    service.build_export(export_id)


@task(service.DISCARD_TASK)
def discard_export(export_id: int) -> None:
    service.discard_export(export_id)
