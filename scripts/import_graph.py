"""Count the imports between domain packages: pairs, cycles and deferred (in-function) imports.

    .venv/bin/python scripts/import_graph.py [--list]

A unit is a top-level package, or a domain sub-package of `crowd/` (so on a tree where domains
still live inside crowd/, the core — crowd/ and crowd/core/ — and they count apart). An import
inside a function body is "deferred"; one
under `if TYPE_CHECKING:` is "typing" and does not count as a dependency.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import pathlib
import sys
from collections import Counter, defaultdict

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOP = ("crowd", "jobs", "payouts", "onboarding", "mentoring", "support")
SKIP = {"tests", "bench", "migrations", "scripts", ".venv"}


def top_packages() -> list[str]:
    names = []
    for path in sorted(ROOT.iterdir()):
        if path.is_dir() and (path / "__init__.py").exists() and path.name not in SKIP:
            names.append(path.name)
    return names


def unit_of(module: str, packages: list[str]) -> str | None:
    parts = module.split(".")
    if parts[0] not in packages:
        return None
    if parts[0] == "crowd":
        # Domains that still live inside crowd/ count apart from the core (crowd, crowd.core).
        if len(parts) > 1 and parts[1] != "core" and (ROOT / "crowd" / parts[1]).is_dir():
            return f"crowd.{parts[1]}"
        return "crowd"
    return parts[0]


def module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


class Visitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool):
        self.module = module
        self.is_package = is_package
        self.depth = 0
        self.typing = 0
        self.found: list[tuple[str, str, int]] = []  # (target, kind, line)

    def _kind(self) -> str:
        if self.typing:
            return "typing"
        return "deferred" if self.depth else "top"

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node):
        test = ast.unparse(node.test)
        if "TYPE_CHECKING" in test:
            self.typing += 1
            for child in node.body:
                self.visit(child)
            self.typing -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self.found.append((alias.name, self._kind(), node.lineno))

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.module.split(".")
            if not self.is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:
            self.found.append((f"{target}.{alias.name}", self._kind(), node.lineno))


def imports(packages: list[str]):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = module_name(path)
            visitor = Visitor(module, path.name == "__init__.py")
            visitor.visit(ast.parse(path.read_text(), str(path)))
            for target, kind, line in visitor.found:
                yield module, path, target, kind, line


def _largest_cycle(units: list[str], edges: set[tuple[str, str]]) -> list[str]:
    """The largest strongly connected set of units (Tarjan); one unit alone is no cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    best: list[str] = []

    def visit(unit: str) -> None:
        nonlocal best
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        for a, b in edges:
            if a != unit:
                continue
            if b not in index:
                visit(b)
                low[unit] = min(low[unit], low[b])
            elif b in stack:
                low[unit] = min(low[unit], index[b])
        if low[unit] == index[unit]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == unit:
                    break
            if len(component) > 1 and len(component) > len(best):
                best = sorted(component)

    for unit in units:
        if unit not in index:
            visit(unit)
    return best


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true", help="list each deferred import")
    args = parser.parse_args()
    packages = top_packages()
    edges: dict[tuple[str, str], Counter] = defaultdict(Counter)
    deferred = []
    deferred_any = 0
    for module, path, target, kind, line in imports(packages):
        a, b = unit_of(module, packages), unit_of(target, packages)
        deferred_any += kind == "deferred" and b is not None
        if a is None or b is None or a == b:
            continue
        edges[(a, b)][kind] += 1
        if kind == "deferred":
            deferred.append((path.relative_to(ROOT), line, target))
    units = sorted({u for pair in edges for u in pair})
    real = {pair for pair, c in edges.items() if c["top"] or c["deferred"]}
    domains = [u for u in units if u != "crowd"]
    possible = len(list(itertools.permutations(domains, 2))) // 2
    unordered = {frozenset(p) for p in real if p[0] in domains and p[1] in domains}
    both_ways = {frozenset(p) for p in real if (p[1], p[0]) in real}
    lines = sum(len(p.read_text().splitlines()) for p in (ROOT / "crowd").rglob("*.py"))
    print(f"units: {len(units)} ({', '.join(units)})")
    print(f"domain pairs with imports: {len(unordered)} of {possible}")
    print(f"pairs importing both ways: {len(both_ways)}")
    core_up = sorted({b for (a, b) in real if a == "crowd" and b != "crowd"})
    print(f"largest import cycle: {len(_largest_cycle(units, real))} units")
    print(f"core → domain imports: {', '.join(core_up) or 'none'}")
    print(
        f"deferred imports across units: {len(deferred)} (of the project's own, anywhere: "
        f"{deferred_any})"
    )
    print(f"lines in crowd/: {lines}")
    if args.list:
        for path, line, target in deferred:
            print(f"  {path}:{line}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
