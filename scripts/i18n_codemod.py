"""Wrap the texts people read in the catalogue's functions (crowd.core.i18n), AST-based.

    python scripts/i18n_codemod.py [--check] [paths…]

- `raise SomeDomainError("…")` → `raise SomeDomainError(_("…"))`; an f-string becomes a msgid
  with named placeholders: `f"Job {job.id} is {job.state}."` →
  `_("Job {job_id} is {job_state}.", job_id=job.id, job_state=job.state)`;
- `field_error("field", "…")` and `raise ValidationError("…")` (marshmallow, in schemas) → their
  message the same way;
- a DomainError subclass's `title` → `_l("…")` (the handler renders it per request);
- the title and body of `notify`, `notify_many`, `alert_staff`, `tell_owner` (and
  `email_body=`) → `_l(…)`: rendered per recipient by notifications.service.

The English text stays as it was. A function that uses `_` as a throwaway name gets
`_unused` there instead. `--check` only counts: converted and remaining raise sites.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "crowd",
    "accounts",
    "members",
    "customers",
    "notifications",
    "recruitment",
    "helpcentre",
    "community",
    "crowd_health",
    "registration",
    "demo",
    "jobs",
    "payouts",
    "onboarding",
    "console",
    "mentoring",
    "support",
]
# Calls whose positional arguments at these indexes (or keywords) are texts for recipients.
TEXT_CALLS = {
    "notify": ((2, 3), ("title", "body")),
    "notify_many": ((1, 2), ("title", "body")),
    "alert_staff": ((1, 2), ("title", "body")),
    "tell_owner": ((2, 3), ("title", "body", "email_body")),
    # Helpers that pass their title and body on to notify().
    "_notify": ((3, 4), ()),
    "tell_parties": ((3, 4), ()),
}
FUNCS = ("_", "_l", "N_")


def domain_error_names() -> set[str]:
    """The class names of every DomainError subclass (imports the app's modules)."""
    sys.path.insert(0, str(ROOT))
    from crowd import create_app
    from crowd.core.errors import DomainError

    create_app({"DATABASE_URL": "sqlite://", "TESTING": True})
    names, todo = {"DomainError"}, list(DomainError.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        names.add(cls.__name__)
    return names


def _placeholder(node: ast.expr, source: str) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.append(node.id)
        name = "_".join(reversed(parts[:2]))
        return re.sub(r"\W", "_", name).strip("_") or "value"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
        return _placeholder(node.args[0], source)
    return "value"


def message_call(node: ast.expr, source: str, func: str) -> str | None:
    """`func(…)` source for a string constant or f-string node; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if not node.value.strip():
            return None
        return f"{func}({node.value!r})"
    if not isinstance(node, ast.JoinedStr):
        return None
    text, params, names = [], {}, {}
    for part in node.values:
        if isinstance(part, ast.Constant):
            text.append(part.value.replace("{", "{{").replace("}", "}}"))
            continue
        expression = ast.get_source_segment(source, part.value)
        if expression in names:
            name = names[expression]
        else:
            base = _placeholder(part.value, source)
            name, n = base, 2
            while name in params:
                name, n = f"{base}{n}", n + 1
            names[expression], params[name] = name, expression
        spec = ""
        if part.conversion != -1:
            spec += "!" + chr(part.conversion)
        if part.format_spec is not None:
            if not all(isinstance(v, ast.Constant) for v in part.format_spec.values):
                return None
            spec += ":" + "".join(v.value for v in part.format_spec.values)
        text.append("{" + name + spec + "}")
    msgid = "".join(text)
    if not params:
        msgid = msgid.replace("{{", "{").replace("}}", "}")
    args = "".join(f", {name}={expression}" for name, expression in params.items())
    return f"{func}({msgid!r}{args})"


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _is_wrapped(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _called(node) in FUNCS


class Finder(ast.NodeVisitor):
    def __init__(self, source: str, errors: set[str]):
        self.source, self.errors = source, errors
        self.edits: list[tuple[ast.AST, str]] = []
        self.used: set[str] = set()
        self.raises = self.raises_done = self.raises_left = 0
        self.functions_with_text: list[ast.AST] = []
        self._function: list[ast.AST] = []

    def _edit(self, node: ast.expr, func: str) -> bool:
        if _is_wrapped(node):
            self.used.add(node.func.id if isinstance(node.func, ast.Name) else func)
            return True
        call = message_call(node, self.source, func)
        if call is None:
            return False
        self.edits.append((node, call))
        self.used.add(func)
        if self._function:
            self.functions_with_text.append(self._function[-1])
        return True

    def visit_FunctionDef(self, node):
        self._function.append(node)
        self.generic_visit(node)
        self._function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Raise(self, node: ast.Raise):
        call = node.exc
        if isinstance(call, ast.Call) and _called(call) in self.errors:
            self.raises += 1
            if call.args and self._edit(call.args[0], "_"):
                self.raises_done += 1
            elif not call.args and not any(k.arg == "detail" for k in call.keywords):
                self.raises_done += 1  # the class's title, translated
            else:
                detail = [k.value for k in call.keywords if k.arg == "detail"]
                if detail and self._edit(detail[0], "_"):
                    self.raises_done += 1
                else:
                    self.raises_left += 1
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call):
        name = _called(node)
        if name == "field_error" and len(node.args) >= 2:
            self._edit(node.args[1], "_")
        if name in TEXT_CALLS:
            positions, keywords = TEXT_CALLS[name]
            for index in positions:
                if index < len(node.args):
                    self._edit(node.args[index], "_l")
            for keyword in node.keywords:
                if keyword.arg in keywords:
                    self._edit(keyword.value, "_l")
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef):
        if node.name in self.errors:
            for statement in node.body:
                if not isinstance(statement, ast.Assign):
                    continue
                for target in statement.targets:
                    if isinstance(target, ast.Name) and target.id == "title":
                        self._edit(statement.value, "_l")
                    elif isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple):
                        for element, value in zip(target.elts, statement.value.elts, strict=False):
                            if isinstance(element, ast.Name) and element.id == "title":
                                self._edit(value, "_l")
                    elif (
                        isinstance(target, ast.Name)
                        and target.id == "other_types"
                        and isinstance(statement.value, ast.Dict)
                    ):
                        for value in statement.value.values:
                            if isinstance(value, ast.Tuple) and len(value.elts) == 2:
                                self._edit(value.elts[1], "_l")
        self.generic_visit(node)


def _throwaway_stores(function: ast.AST) -> list[ast.AST]:
    """`_` as a parameter or assigned in the function's own scope (not in nested functions or
    comprehensions)."""
    arguments = function.args
    found = [
        argument
        for argument in (
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
            arguments.vararg,
            arguments.kwarg,
        )
        if argument is not None and argument.arg == "_" and argument.annotation is None
    ]
    todo = list(ast.iter_child_nodes(function))
    while todo:
        node = todo.pop()
        if isinstance(
            node,
            (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp)
            + (ast.DictComp, ast.GeneratorExp, ast.ClassDef),
        ):
            continue
        if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
            found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def _offset(lines: list[str], lineno: int, col: int) -> int:
    return sum(len(line) for line in lines[: lineno - 1]) + len(
        lines[lineno - 1].encode()[:col].decode()
    )


def convert(path: Path, errors: set[str], write: bool) -> Finder:
    source = path.read_text()
    tree = ast.parse(source)
    finder = Finder(source, errors)
    finder.visit(tree)
    if not write or not finder.edits:
        return finder
    edits = [(node, text) for node, text in finder.edits]
    for function in {id(f): f for f in finder.functions_with_text}.values():
        edits.extend((name, "_unused") for name in _throwaway_stores(function))
    lines = source.splitlines(keepends=True)
    spans = sorted(
        (
            (
                _offset(lines, node.lineno, node.col_offset),
                _offset(lines, node.end_lineno, node.end_col_offset),
                text,
            )
            for node, text in edits
        ),
        reverse=True,
    )
    for start, end, text in spans:
        source = source[:start] + text + source[end:]
    wanted = sorted(finder.used - _imported(tree))
    if wanted and path.resolve() != ROOT / "crowd" / "core" / "i18n.py":
        source = _add_import(source, f"from crowd.core.i18n import {', '.join(wanted)}\n")
    path.write_text(source)
    return finder


def _imported(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "crowd.core.i18n"
        for alias in node.names
    }


def _add_import(source: str, line: str) -> str:
    tree = ast.parse(source)
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    lines = source.splitlines(keepends=True)
    if imports:
        existing = [
            n
            for n in imports
            if isinstance(n, ast.ImportFrom) and n.module and n.module == "crowd.core.i18n"
        ]
        if existing:
            node = existing[0]
            names = sorted(
                {a.name for a in node.names} | set(line.split("import ")[1].strip().split(", "))
            )
            new = f"from crowd.core.i18n import {', '.join(names)}\n"
            return "".join(lines[: node.lineno - 1]) + new + "".join(lines[node.end_lineno :])
        at = imports[-1].end_lineno
    else:
        at = 0
    return "".join(lines[:at]) + line + "".join(lines[at:])


def main(argv: list[str]) -> int:
    write = "--check" not in argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or [ROOT / p for p in PACKAGES]
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))]
    errors = domain_error_names() | {"ValidationError"}
    totals = [0, 0, 0]
    for path in files:
        finder = convert(path, errors, write)
        totals[0] += finder.raises
        totals[1] += finder.raises_done
        totals[2] += finder.raises_left
    print(
        f"raise sites of domain errors and ValidationError: {totals[0]}, with a translatable "
        f"text (or the class's title): {totals[1]}, with a text made elsewhere: {totals[2]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
