"""The `scrywatch` command: serve · migrate · user create · jobs run/list · bench."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import signal
import socket
import sys
from typing import Any

from scrywatch import __version__
from scrywatch.config import Config, load_config
from scrywatch.errors import ConfigError, ScryError

logger = logging.getLogger("scrywatch")


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", metavar="PATH", help="scrywatch.toml (default: built-in settings)")
    p.add_argument("--data-dir", metavar="DIR", help="where the database and archive live (default ./data)")


def config_from_args(args: argparse.Namespace) -> Config:
    """Config file + SCRYWATCH_* environment + command-line flags, in rising priority."""
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    server: dict[str, Any] = {}
    if getattr(args, "host", None):
        server["host"] = args.host
    if getattr(args, "port", None) is not None:
        server["port"] = args.port
    if server:
        overrides["server"] = server
    path = getattr(args, "config", None) or os.environ.get("SCRYWATCH_CONFIG") or None
    return load_config(path, overrides=overrides)


def _setup_logging(level: str, *, access_log: bool) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not access_log:
        logging.getLogger("scrywatch.access").setLevel(logging.WARNING)


async def _count_users(config: Config) -> int:
    from scrywatch.runtime import build_runtime

    rt = build_runtime(config)
    await rt.store.start()
    try:
        return int(await rt.store.accounts.count_users())
    finally:
        await rt.store.close()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from scrywatch import proctune
    from scrywatch.app import create_app

    proctune.tune_malloc()  # before any thread starts
    config = config_from_args(args)
    _setup_logging(args.log_level, access_log=not args.no_access_log)
    host, port = config.server.host, config.server.port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        print(f"scrywatch: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    sock.listen(2048)  # listening before we print the URL, so a client may connect at once
    real_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{real_port}"
    no_users = asyncio.run(_count_users(config)) == 0
    print(f"ScryWatch {__version__} listening on {url}  (data in {config.data_path.resolve()})", flush=True)
    if no_users:
        print(f"No accounts yet. Create the first one in the browser at {url}/setup, or from a shell:\n"
              f"  scrywatch user create --email you@example.com --name 'Your Name' --org 'Your Org'",
              flush=True)
    app = create_app(config)
    proctune.before_serving()
    server = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level.lower(), access_log=False,
                                           lifespan="on", timeout_graceful_shutdown=10,
                                           proxy_headers=args.proxy_headers, server_header=False))
    # uvicorn shuts down on SIGTERM, then re-raises it under the handler it found, so with the default
    # one the process would die with status 143 after a clean stop; a no-op handler lets it return 0.
    signal.signal(signal.SIGTERM, _stopped)
    server.run(sockets=[sock])
    return 0


def _stopped(signum: int, frame: object) -> None:
    """SIGTERM after uvicorn's own handler is gone: the server has already stopped cleanly."""


def cmd_migrate(args: argparse.Namespace) -> int:
    from scrywatch.storage import open_store

    config = config_from_args(args)
    store = open_store(config)
    ran = store.migrate()
    print("applied: " + ", ".join(ran) if ran else "database is up to date")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from scrywatch.services.admin import create_user_from_shell

    config = config_from_args(args)
    password = args.password
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass("Password (8+ characters): ")
        else:
            password = sys.stdin.readline().rstrip("\n")
    result = asyncio.run(create_user_from_shell(config, email=args.email, name=args.name, org_name=args.org,
                                                password=password, role=args.role))
    for line in result:
        print(line)
    return 0


def cmd_jobs_run(args: argparse.Namespace) -> int:
    from scrywatch.jobs import registry, run_job
    from scrywatch.runtime import build_runtime

    config = config_from_args(args)
    _setup_logging(args.log_level, access_log=False)
    if args.name not in registry():
        print(f"scrywatch: no job named {args.name!r}; jobs: {', '.join(sorted(registry())) or 'none'}",
              file=sys.stderr)
        return 2

    async def go() -> dict[str, Any]:
        rt = build_runtime(config)
        await rt.store.start()
        try:
            return await run_job(rt, args.name, wait=True)
        finally:
            await rt.store.close()

    print(json.dumps({"job": args.name, **asyncio.run(go())}, default=str))
    return 0


def cmd_jobs_list(args: argparse.Namespace) -> int:
    from scrywatch.jobs import registry

    config = config_from_args(args)
    for job in registry().values():
        print(f"{job.name:12s} every {job.interval_s(config):g}s  {job.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scrywatch", description="Self-hosted log and trace server.")
    parser.add_argument("--version", action="version", version=f"scrywatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the server")
    _add_config_args(p)
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8080; 0 picks a free one)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--no-access-log", action="store_true", help="do not log one line per request")
    p.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-For/Proto from a proxy")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations")
    _add_config_args(p)
    p.set_defaults(func=cmd_migrate)

    user = sub.add_parser("user", help="manage accounts").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("create", help="create an account (prints the API key of a new org)")
    _add_config_args(p)
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--org", required=True, help="organization name; created if new, joined if it exists")
    p.add_argument("--role", default="member", choices=["owner", "admin", "member"],
                   help="role when joining an existing organization (default member)")
    p.add_argument("--password", help="password (default: prompt, or read a line from stdin)")
    p.set_defaults(func=cmd_user_create)

    jobs = sub.add_parser("jobs", help="background jobs").add_subparsers(dest="jobs_command", required=True)
    p = jobs.add_parser("run", help="run one job once (safe beside a running server)")
    _add_config_args(p)
    p.add_argument("name")
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_jobs_run)
    p = jobs.add_parser("list", help="list the jobs and their intervals")
    _add_config_args(p)
    p.set_defaults(func=cmd_jobs_list)

    _add_bench(sub)
    return parser


def _add_bench(sub: Any) -> None:
    try:
        from scrywatch.bench import add_parser
    except ImportError:
        return
    add_parser(sub, _add_config_args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"scrywatch: {exc.message}", file=sys.stderr)
        return 2
    except ScryError as exc:
        print(f"scrywatch: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception:  # the CLI's top level: say what broke without a wall of text
        logger.exception("scrywatch failed")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
