"""What the API-wide tests share: the operations in scope, and the tally of what was run."""

from __future__ import annotations

from dataclasses import dataclass, field

import schemathesis

METHODS = ("get", "post", "put", "patch", "delete")

# Security parameters (the bearer token) are ours to set per party, never generated. Invalid
# data may also be refused at the edge for its size (413, 414: crowd/core/security.py).
FUZZ_CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"with-security-parameters": False},
        "checks": {
            "negative_data_rejection": {
                # Schemathesis' defaults, and 413 and 414.
                "expected-statuses": [
                    *("400", "401", "403", "404", "405", "406", "409", "413", "414", "415"),
                    *("422", "428", "429", "5xx"),
                ]
            }
        },
    }
)


@dataclass
class Tally:
    """Counts printed at the end of the run (see conftest.pytest_terminal_summary)."""

    cases: int = 0
    hostile_bodies: int = 0
    operations: set = field(default_factory=set)
    cells: int = 0
    matrix_operations: set = field(default_factory=set)


tally = Tally()


def operations_in_scope(spec: dict) -> dict[str, dict]:
    """Every documented operation, "METHOD /path" → its spec (with the path's parameters)."""
    operations = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                label = f"{method.upper()} {path}"
                operations[label] = {**operation, "parameters": item.get("parameters", [])}
    return operations
