"""The message catalogues hold every text of the source, translated into German, and compile;
the committed .mo files are the compiled .po files (`make i18n-update`, then translate, then
`make i18n-compile`)."""

from __future__ import annotations

import ast
import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from crowd import DOMAINS
from crowd.core.i18n import (
    LOCALES,
    TEMPLATE_PARTS,
    TRANSLATIONS,
    VALIDATION_MESSAGES,
    marshmallow_templates,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("crowd", *DOMAINS)
KEYWORDS = {"_": None, "_l": None, "N_": None}
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _method_map() -> list[tuple[str, str]]:
    """babel.cfg's sections, as Babel's extract API takes them."""
    sections = re.findall(r"^\[(\w+):\s*(.+?)\]", (ROOT / "babel.cfg").read_text(), re.M)
    return [(pattern, method) for method, pattern in sections]


@pytest.fixture(scope="module")
def source_msgids() -> set[str]:
    found = set()
    for package in SOURCES:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, _method_map(), keywords=KEYWORDS
        ):
            found.add(message)
    return found


def _catalogue(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=locale)


def test_the_source_has_texts_to_translate(source_msgids):
    # Guards the extraction itself: an empty set would make the tests below pass vacuously.
    assert len(source_msgids) > 500
    assert "No such job." in source_msgids
    assert "New job offer" in source_msgids
    assert "Unsubscribe from {what}" in source_msgids  # from the email templates


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_is_not_stale(source_msgids, locale):
    """A new _("…") in the source, or a text changed there, fails until `make i18n-update`."""
    catalogued = {message.id for message in _catalogue(locale) if message.id}

    missing = sorted(source_msgids - catalogued)
    obsolete = sorted(catalogued - source_msgids)
    assert not missing, f"not in {locale}/messages.po (run make i18n-update): {missing}"
    assert not obsolete, f"in {locale}/messages.po, gone from the source: {obsolete}"


def test_every_text_has_a_german_translation():
    untranslated = [m.id for m in _catalogue("de") if m.id and not m.string]
    fuzzy = [m.id for m in _catalogue("de") if m.id and m.fuzzy]

    assert not untranslated, f"no German for: {untranslated}"
    assert not fuzzy, f"fuzzy (check, then clear the flag): {fuzzy}"


def test_translations_keep_the_placeholders():
    """A translation names exactly the placeholders of its msgid ({name}, {when:%d.%m.%Y})."""
    wrong = [
        (m.id, m.string)
        for m in _catalogue("de")
        if m.id
        and m.string
        and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong


@pytest.mark.parametrize("locale", LOCALES)
def test_every_catalogue_compiles_and_the_committed_mo_is_current(locale):
    catalogue = _catalogue(locale)
    assert not list(catalogue.check()), "the catalogue has errors"
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    mo = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    with open(mo, "rb") as file:
        committed = gettext.GNUTranslations(file)

    assert committed._catalog == fresh._catalog, f"{mo} is stale: run make i18n-compile"


def test_marshmallows_generic_messages_are_all_in_the_catalogue():
    """A marshmallow upgrade that adds a field message fails here until it is listed."""
    assert marshmallow_templates() - set(VALIDATION_MESSAGES) - TEMPLATE_PARTS == set()


def _own_names(function: ast.FunctionDef) -> set[str]:
    """The names local to `function`: its parameters and what it assigns (not in nested scopes)."""
    arguments = function.args
    names = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    names |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    todo = list(ast.iter_child_nodes(function))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        todo.extend(ast.iter_child_nodes(node))
    return names


def test_no_function_hides_the_translation_functions():
    """`for _ in …` or `**_` in a function that calls _("…") would call the throwaway instead."""
    hiding = []
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                called = {
                    call.func.id
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                }
                for name in {"_", "_l", "N_"} & called & _own_names(node):
                    hiding.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {name}")
    assert not hiding
