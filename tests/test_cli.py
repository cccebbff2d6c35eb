"""``python -m labkit``: the headless demo and the foreground servers, each in a fresh process."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2


def test_demo_json_reports_every_step_ok() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "labkit", "demo", "--json"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    steps = [(s["step"].split(" (")[0], s["method"], s["status"]) for s in report["steps"]]
    assert report["ok"] is True
    assert [s[2] for s in steps] == [401, 200, 200, 201, 302, 302, 200, 200, 200, 200, 200, 401]
    assert all(s["url"].startswith("http://127.0.0.1:") for s in report["steps"])


def test_demo_text_shows_the_requests_that_matter() -> None:
    done = subprocess.run([sys.executable, "-m", "labkit", "demo"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for needle in ("Www-Authenticate: Bearer", "code_challenge_method=S256", "grant_type=refresh_token", "← 401"):
        assert needle in text
    assert "bob-writes" not in text  # the password is not echoed
    assert done.stderr == ""


def test_serve_prints_urls_and_users_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "labkit", "serve", "--as-port", "0", "--mcp-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(lines)
        issuer = re.search(r"issuer\): (\S+)", text)
        assert issuer, text
        assert "alice" in text and "bob" in text and "notes:write" in text
        assert httpx2.get(issuer.group(1) + "/.well-known/oauth-authorization-server").status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_demo_mermaid_prints_a_sequence_diagram() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "labkit", "demo", "--mermaid"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert any(line.startswith("    C->>AS: GET /authorize, PKCE S256") for line in lines)
    assert any(line.startswith("    RS->>AS: POST /introspect") for line in lines)
    assert any(line.startswith("    U->>AS: POST /login, username=bob") for line in lines)


def test_demo_with_storage_logs_in_once(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "labkit", "demo", "--json", "--storage", str(tokens)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr + done.stdout
        runs.append(json.loads(done.stdout))
    first, second = runs
    assert first["resumed"] is False and any(s["url"] and "/authorize" in s["url"] for s in first["steps"])
    assert second["resumed"] is True
    assert second["checks"]["no login: the trace has no /authorize request"] is True
    assert [s["status"] for s in second["steps"]] == [200, 200, 200]
    assert tokens.stat().st_mode & 0o777 == 0o600


def test_demo_with_a_foreign_storage_file_says_so(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text('{"hello": "world"}')
    done = subprocess.run(
        [sys.executable, "-m", "labkit", "demo", "--storage", str(tokens)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and str(tokens) in done.stderr and "Traceback" not in done.stderr
