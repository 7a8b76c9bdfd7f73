"""The app the fault tests' RQ worker subprocesses run (`flask --app tests.faults.worker_app
crowd worker`): the real app, with the tests' own tasks registered."""

from crowd import create_app
from tests.faults import tasks  # noqa: F401  (registers the test-only tasks)

app = create_app()
