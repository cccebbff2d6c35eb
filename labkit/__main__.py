"""Command line: ``python -m labkit demo`` runs the flow headless; ``serve`` runs the servers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading

import labkit
from labkit.demo import run_demo
from labkit.render import report_text
from labkit.server_thread import ServerStartError


def _demo(args: argparse.Namespace) -> int:
    lab = labkit.start()
    try:
        report = asyncio.run(run_demo(lab))
    finally:
        lab.stop()
    if args.json:
        print(json.dumps({"ok": report.ok, "steps": [s.to_dict() for s in report.steps]}, indent=2))
    else:
        print(report_text(report))
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
    demo.add_argument("--json", action="store_true", help="print the steps as one JSON document")
    demo.set_defaults(run=_demo)
    serve = commands.add_parser("serve", help="run both servers in the foreground for outside clients")
    serve.add_argument("--as-port", type=int, default=9000, help="authorization server port (default 9000)")
    serve.add_argument("--mcp-port", type=int, default=8000, help="MCP server port (default 8000)")
    serve.set_defaults(run=_serve)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
