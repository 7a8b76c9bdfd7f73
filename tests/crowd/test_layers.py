"""The layers of pyproject.toml's import-linter contract hold, and an upward import breaks them.

`make lint` runs lint-imports on the tree; here it runs on a copy of the packages, once as they
are and once with one import added that goes upward (the core reaching a domain, and a domain
reaching one above it), which must fail and name the offending pair.
"""

from __future__ import annotations

import ast
import os
import pathlib
import shutil
import subprocess
import sys
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]
LINT_IMPORTS = pathlib.Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> pathlib.Path:
    """The packages' Python files and the contract, copied where a test may change them."""
    root = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def _lint(root: pathlib.Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_package_is_in_exactly_one_layer():
    layers = CONFIG["contracts"][0]["layers"]
    assert sorted(layers) == sorted(PACKAGES)
    on_disk = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in ("tests", "bench", "migrations", "scripts")
    }
    assert on_disk == set(PACKAGES), "a new top-level package needs its place in the layers"


def test_the_tree_keeps_its_layers(tree):
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "upward", "message"),
    [
        ("crowd/core/upward.py", "import jobs.models", "crowd is not allowed to import jobs"),
        (
            "jobs/upward.py",
            "from payouts.models import Payout",
            "jobs is not allowed to import payouts",
        ),
        (
            # Hidden in a function body, as cycles used to be dodged: still found.
            "members/upward.py",
            "def f():\n    from onboarding.models import Level\n    return Level",
            "members is not allowed to import onboarding",
        ),
    ],
)
def test_an_upward_import_breaks_the_contract(tree, module, upward, message):
    path = tree / module
    path.write_text(upward + "\n")
    try:
        result = _lint(tree)
    finally:
        path.unlink()
    assert result.returncode != 0
    assert message in result.stdout
    assert "Contracts: 0 kept, 1 broken." in result.stdout


# Imports inside a function body: only where the delay is the point, never to dodge a cycle.
DEFERRED_ALLOWED = {
    # The app factory imports the core when it builds an app, so `import crowd` stays light
    # and the core can name the factory (the worker builds its app with it).
    "crowd/__init__.py",
    # The Stripe SDK is large and the embedded default (offline payments) never needs it.
    "payouts/providers/__init__.py",
}


def _deferred_imports(path: pathlib.Path) -> list[str]:
    found = []

    class Visitor(ast.NodeVisitor):
        depth = 0

        def visit_FunctionDef(self, node):
            self.depth += 1
            self.generic_visit(node)
            self.depth -= 1

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_ImportFrom(self, node):
            top = (node.module or "").split(".")[0]
            if self.depth and (node.level or top in PACKAGES):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module}")

        def visit_Import(self, node):
            tops = {alias.name.split(".")[0] for alias in node.names}
            if self.depth and tops & set(PACKAGES):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} import …")

    Visitor().visit(ast.parse(path.read_text()))
    return found


def test_no_import_hides_in_a_function_body():
    deferred = [
        hit
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in DEFERRED_ALLOWED
        for hit in _deferred_imports(path)
    ]
    assert deferred == []


def test_the_deferred_import_check_finds_one(tmp_path, monkeypatch):
    module = tmp_path / "jobs" / "sneaky.py"
    module.parent.mkdir()
    module.write_text("def f():\n    from payouts import models\n    return models\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _deferred_imports(module) == ["jobs/sneaky.py:2 from payouts"]
