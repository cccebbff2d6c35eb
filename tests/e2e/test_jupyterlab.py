"""A learner in JupyterLab: Run All on the client notebook, type into the login form, get the result.

Real JupyterLab, real kernel, headless Chromium (Debian's package) driven by Playwright's own
driver; nothing downloads a browser. Without chromium the test skips with a hint, unless
``LABKIT_E2E_REQUIRED=1`` (set by ``.ci/run``), where a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "04_client.ipynb"
CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("LABKIT_E2E_REQUIRED") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_TIMEOUT_MS = 60_000


def _browser_or_skip() -> None:
    missing = [] if Path(CHROMIUM).exists() else [f"chromium ({CHROMIUM})"]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright wheel")
    if missing:
        message = f"needs {' and '.join(missing)}: apt-get install chromium && pip install playwright"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """JupyterLab on loopback, no token, in a temporary root; stopped (kernels too) afterwards."""
    _browser_or_skip()
    root = tmp_path_factory.mktemp("lab-root")
    home = tmp_path_factory.mktemp("lab-home")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "LABKIT_AUTOPILOT"}  # a person types here
    env["JUPYTER_CONFIG_DIR"] = str(home / "config")
    env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
    # No "would you like news?" pop-up over the notebook.
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    log = (home / "jupyter.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--ServerApp.root_dir={root}",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
            f"--LabApp.user_settings_dir={home / 'settings'}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited: {(home / 'jupyter.log').read_text()[-2000:]}")
            try:
                if httpx2.get(f"{base}/api/status", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("jupyter lab did not answer within 60 s")
            time.sleep(0.1)
        yield base, root
    finally:
        proc.terminate()  # jupyter_server shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _copy_notebook(root: Path, name: str, source: Path = NOTEBOOK) -> str:
    """A notebook without its stored outputs, so only what this run produces is seen."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, root / name)
    return name


@contextlib.contextmanager
def _run_all(base: str, notebook: str) -> Iterator[Any]:
    """A fresh Chromium page on ``notebook``, Run All started; yields the notebook panel."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            # A workspace of its own, reset: no tab of an earlier test comes back.
            page.goto(f"{base}/lab/workspaces/{Path(notebook).stem}/tree/{notebook}?reset")
            page.wait_for_function(
                "window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
            )
            # Start Run All without awaiting its promise (it resolves only when every cell is done).
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            yield page.locator(".jp-NotebookPanel:visible")
        finally:
            browser.close()


def _run_all_and_sign_in(
    base: str, notebook: str, screenshot: Path, *, wrong_first: bool = False, edit_twice: bool = False
) -> dict[str, float]:
    timings: dict[str, float] = {}
    started = time.monotonic()
    with _run_all(base, notebook) as panel:
        page = panel.page
        try:
            user = panel.locator(".widget-text input[type=text]").first
            user.wait_for()
            timings["form shown"] = time.monotonic() - started
            if wrong_first:
                _type(panel, "bob", "not-bobs-password")
                panel.get_by_text("Wrong username or password. Try again.").wait_for()
                timings["wrong password shown"] = time.monotonic() - started
            if edit_twice:
                # Leave the box with "bo", come back and finish it: the box sends two updates.
                user.click()
                user.type("bo", delay=20)
                user.press("Tab")
                panel.locator(".widget-text input[type=password]").first.type("bob-writes", delay=20)
                user.click()
                user.press("End")
                user.type("b", delay=20)
                panel.get_by_role("button", name="Sign in").click()
            else:
                _type(panel, "bob", "bob-writes")
            panel.get_by_text("The MCP server says: you are bob").wait_for()
            timings["tool result"] = time.monotonic() - started
            # The last cell (the exercise check) has run: Run All went on by itself.
            panel.get_by_text("Not attempted yet: MyLogin").wait_for()
            timings["all cells done"] = time.monotonic() - started
            panel.get_by_text("Signed in as bob. The client continues by itself.").scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
        except Exception:
            page.screenshot(path=str(screenshot.with_name("failure-" + screenshot.name)))
            print(f"failure screenshot: {screenshot.with_name('failure-' + screenshot.name)}")
            raise
    return timings


def _type(panel: object, username: str, password: str) -> None:
    user = panel.locator(".widget-text input[type=text]").first  # type: ignore[attr-defined]
    user.fill("")
    user.type(username, delay=20)
    password_box = panel.locator(".widget-text input[type=password]").first  # type: ignore[attr-defined]
    password_box.type(password, delay=20)
    panel.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]


def _report(capsys: pytest.CaptureFixture[str], shot: Path, timings: dict[str, float]) -> None:
    with capsys.disabled():  # always shown: where the artifact is, and how long each step took
        print(f"\n  screenshot: {shot}\n  seconds: { {k: round(v, 1) for k, v in timings.items()} }")


def test_learner_signs_in_during_run_all(
    jupyter: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, root = jupyter
    shot = tmp_path / "signed-in.png"
    timings = _run_all_and_sign_in(base, _copy_notebook(root, "client.ipynb"), shot, wrong_first=False)
    _report(capsys, shot, timings)
    assert shot.stat().st_size > 10_000
    if os.environ.get("LABKIT_E2E_SCREENSHOT"):
        shutil.copy(shot, os.environ["LABKIT_E2E_SCREENSHOT"])


def test_wrong_password_shows_an_error_then_signs_in(
    jupyter: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, root = jupyter
    shot = tmp_path / "wrong-then-right.png"
    timings = _run_all_and_sign_in(base, _copy_notebook(root, "client-retry.ipynb"), shot, wrong_first=True)
    _report(capsys, shot, timings)
    assert timings["wrong password shown"] < timings["tool result"]


def test_welcome_notebook_runs_and_draws_its_diagram(
    jupyter: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``jupyter lab`` opens the welcome notebook; Run All works and the Mermaid diagram is drawn."""
    base, root = jupyter
    name = _copy_notebook(root, "welcome.ipynb", ROOT / "notebooks" / "00_welcome.ipynb")
    shot = tmp_path / "welcome.png"
    started = time.monotonic()
    with _run_all(base, name) as panel:
        panel.get_by_text("Not attempted yet: password_request").wait_for()
        diagram = panel.locator(".jp-RenderedMermaid").first  # the parties, drawn by JupyterLab
        diagram.wait_for(state="attached")
        diagram.scroll_into_view_if_needed()
        assert diagram.locator("svg, img").count() >= 1
        panel.page.screenshot(path=str(shot))
    _report(capsys, shot, {"all cells done": time.monotonic() - started})


def test_a_field_edited_twice_is_heard_twice(
    jupyter: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second update of a text box arrives while the cell waits (see labkit.widgets.acknowledge_update)."""
    base, root = jupyter
    shot = tmp_path / "edited-twice.png"
    timings = _run_all_and_sign_in(base, _copy_notebook(root, "client-edit.ipynb"), shot, edit_twice=True)
    _report(capsys, shot, timings)
