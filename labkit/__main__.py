"""Command line: ``python -m labkit demo`` runs the flow headless; ``serve`` runs the servers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from pathlib import Path

import labkit
from labkit.demo import run_demo
from labkit.lab import LabStateError
from labkit.render import mermaid, report_text
from labkit.server_thread import ServerStartError
from labkit.storage import FileTokenStorage, TokenStorageError


def _demo(args: argparse.Namespace) -> int:
    storage = None
    state_file = None
    if args.storage:
        path = Path(args.storage)
        # The client keeps its tokens in PATH; the lab keeps its server-side state beside it, so
        # the next run meets the same authorization server (same issuer, same grants).
        state_file = path.with_name(path.stem + ".lab-state.json")
        try:
            storage = FileTokenStorage(path)
            lab = labkit.start(state_file=state_file)
        except (TokenStorageError, LabStateError, ServerStartError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    else:
        lab = labkit.start()
    try:
        report = asyncio.run(run_demo(lab, storage=storage, revoke=storage is None))
    finally:
        lab.stop()
    if args.json:
        steps = [s.to_dict() for s in report.steps]
        print(
            json.dumps({"ok": report.ok, "resumed": report.resumed, "checks": report.checks, "steps": steps}, indent=2)
        )
    elif args.mermaid:
        print(mermaid(report.trace))
    else:
        print(report_text(report))
        if args.storage:
            print(f"\nTokens kept in {args.storage} (the lab's own state in {state_file}).")
    return 0 if report.ok else 1


def _serve(args: argparse.Namespace) -> int:
    try:
        lab = labkit.start(as_port=args.as_port, mcp_port=args.mcp_port)
    except ServerStartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Authorization server (issuer): {lab.issuer_url}")
    print(f"MCP server (protected resource): {lab.mcp_url}")
    print("Demo users:")
    for user in lab.users.values():
        print(f"  {user.username:6} password {user.password:12} scopes {' '.join(user.scopes)}")
    print("Ctrl-C stops both servers.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        lab.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the whole OAuth flow headless and show each step")
    shown = demo.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print the steps as one JSON document")
    shown.add_argument("--mermaid", action="store_true", help="print the flow as a Mermaid sequence diagram")
    demo.add_argument("--storage", metavar="PATH", help="keep tokens in this file: the next run needs no login")
    demo.set_defaults(run=_demo)
    serve = commands.add_parser("serve", help="run both servers in the foreground for outside clients")
    serve.add_argument("--as-port", type=int, default=9000, help="authorization server port (default 9000)")
    serve.add_argument("--mcp-port", type=int, default=8000, help="MCP server port (default 8000)")
    serve.set_defaults(run=_serve)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
