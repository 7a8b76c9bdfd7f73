"""Browser tests of the console: the app served by a real server (werkzeug, a thread, 127.0.0.1
on a free port) and Debian's Chromium driven by Playwright.

Without /usr/bin/chromium (or the playwright package) the browser tests are skipped, and the
run says so in its summary; with CI=true a missing browser fails them instead (.ci/run installs
chromium with apt-get). Screenshots go to build/screenshots/ (ignored by git).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CROWD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = pathlib.Path(__file__).resolve().parents[2] / "build" / "screenshots"
_outcomes = {"ran": 0, "skipped": 0, "reason": ""}


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing (pip install -r requirements.txt)"
    return None


# Module scope: Playwright's event loop ends with the browser tests, before any later test
# (SMTP, HTTP/2 fakes) runs asyncio of its own.
@pytest.fixture(scope="module")
def browser():
    """Chromium (headless, a fresh temporary profile), or skip/fail when it is not there."""
    missing = _missing()
    if missing:
        _outcomes["reason"] = missing
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run under CI=true: {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives every run a fresh temporary user-data-dir of its own.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def live_server(app):
    """The test app served on 127.0.0.1:<free port> by a werkzeug server in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def new_page(browser, live_server):
    """new_page() → a page in a fresh browser context (its own cookies), at the server; the
    browser asks for English as the suite's other tests do (new_page("de-DE") for German)."""
    contexts = []

    def _new(locale: str = "en-US"):
        context = browser.new_context(base_url=live_server, locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _take(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-{name}.png"), full_page=True)

    return _take


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script (shipped inside the axe-playwright-python package)."""
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None or not spec.submodule_search_locations:
        if os.environ.get("CI") == "true":
            pytest.fail("axe-playwright-python is missing under CI=true")
        pytest.skip("accessibility check skipped: axe-playwright-python is missing")
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "axe.min.js"
    return path.read_text()


@pytest.fixture
def check_accessibility(axe_source):
    """check_accessibility(page): axe-core finds no serious or critical violation."""

    def _check(page) -> None:
        # Injected through the DevTools protocol: the page's CSP does not apply to it.
        page.evaluate(axe_source)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility violations on {page.url}:\n" + "\n".join(bad)

    return _check


def pytest_collection_modifyitems(items):
    """Every test that opens a page in Chromium counts as a browser test in the summary."""
    for item in items:
        if {"browser", "new_page"} & set(getattr(item, "fixturenames", ())):
            item.add_marker("in_browser")


def pytest_runtest_logreport(report):
    if "in_browser" not in report.keywords:
        return
    if report.when == "call":
        _outcomes["ran"] += 1
    if report.skipped:
        _outcomes["skipped"] += 1


def pytest_terminal_summary(terminalreporter):
    if _outcomes["skipped"]:
        terminalreporter.write_line(
            f"console browser tests: {_outcomes['skipped']} SKIPPED — {_outcomes['reason']}",
            yellow=True,
        )
    elif _outcomes["ran"]:
        terminalreporter.write_line(
            f"console browser tests: {_outcomes['ran']} ran in Chromium ({CHROMIUM}); "
            f"screenshots in {SCREENSHOTS}"
        )
