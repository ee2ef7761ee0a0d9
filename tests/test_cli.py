"""The `scrywatch` command in real subprocesses: serve, user create, migrate, jobs run, config errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.support import LiveServer, login, wait_for

MakeServer = Callable[..., LiveServer]
URL_RE = re.compile(r"listening on (http://\S+)")
KEY_RE = re.compile(r"\b(sw_[0-9A-Za-z]{43})\b")


def cli_env() -> dict[str, str]:
    """The parent environment without SCRYWATCH_* settings, plus fast argon2."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRYWATCH_")}
    env.update({"SCRYWATCH_AUTH_ARGON2_MEMORY_KIB": "1024", "SCRYWATCH_AUTH_ARGON2_TIME_COST": "1",
                "SCRYWATCH_AUTH_ARGON2_PARALLELISM": "1", "SCRYWATCH_JOBS_ENABLED": "false",
                "PYTHONUNBUFFERED": "1"})
    return env


def run_cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrywatch", *args], cwd=cwd, env=cli_env(), input=stdin,
                          capture_output=True, text=True, timeout=60)


class Collected:
    """Lines a pipe has produced so far, read by a thread so the test never blocks on readline."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.lines.append(line)

    def join(self) -> str:
        self._thread.join(timeout=30)
        return "".join(self.lines)

    @property
    def text(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], Collected, Collected]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(*extra: str) -> tuple[subprocess.Popen[str], Collected, Collected]:
        proc = subprocess.Popen([sys.executable, "-m", "scrywatch", "serve", "--port", "0", *extra], cwd=tmp_path,
                                env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None and proc.stderr is not None
        return proc, Collected(proc.stdout), Collected(proc.stderr)

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def printed_url(proc: subprocess.Popen[str], out: Collected) -> str:
    def url() -> str | None:
        if proc.poll() is not None:
            raise AssertionError(f"scrywatch serve exited with {proc.returncode}: {out.text}")
        m = URL_RE.search(out.text)
        return m.group(1) if m else None

    return str(wait_for(url, timeout=30, message="the printed URL"))


def test_serve_prints_its_url_answers_and_stops_cleanly_on_sigterm(serve: Callable[..., tuple[
        subprocess.Popen[str], Collected, Collected]], tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, out, err = serve("--data-dir", str(data))
    url = printed_url(proc, out)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url) and not url.endswith(":0")
    r = httpx.get(f"{url}/api/health", timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert "No accounts yet" in out.text and "scrywatch user create" in out.text
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, err.join()
    log = err.join()
    assert "writer drained, database closed" in log
    assert "Traceback" not in log
    assert (data / "scrywatch.db").exists()


def test_user_create_prints_a_working_key_and_joins_an_existing_org(
        serve: Callable[..., tuple[subprocess.Popen[str], Collected, Collected]], tmp_path: Path,
        make_server: MakeServer) -> None:
    data = tmp_path / "data"
    first = run_cli("user", "create", "--data-dir", str(data), "--email", "Boss@Example.com", "--name", "Boss",
                    "--org", "Acme Corp", "--password", "a long password", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    key = KEY_RE.search(first.stdout)
    assert key, first.stdout
    second = run_cli("user", "create", "--data-dir", str(data), "--email", "dev@example.com", "--name", "Dev",
                     "--org", "Acme Corp", cwd=tmp_path, stdin="dev password 123\n")  # password from stdin
    assert second.returncode == 0, second.stderr
    assert not KEY_RE.search(second.stdout) and "acme-corp" in second.stdout
    again = run_cli("user", "create", "--data-dir", str(data), "--email", "dev@example.com", "--name", "Dev",
                    "--org", "Other", "--password", "a long password", cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    short = run_cli("user", "create", "--data-dir", str(data), "--email", "x@example.com", "--name", "X",
                    "--org", "Other", "--password", "short", cwd=tmp_path)
    assert short.returncode == 1 and "password" in short.stderr

    # A server on that data directory: no first-start hint, the key works, both people can sign in.
    proc, out, err = serve("--data-dir", str(data))
    url = printed_url(proc, out)
    assert "No accounts yet" not in out.text
    me = httpx.get(f"{url}/api/auth/me", headers={"Authorization": f"Bearer {key.group(1)}"}, timeout=10)
    assert me.status_code == 200, me.text
    assert [(o["slug"], [p["slug"] for p in o["projects"]]) for o in me.json()["orgs"]] == [("acme-corp", ["default"])]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, err.join()

    server = make_server(data_dir=data)
    boss = login(server, "boss@example.com", "a long password")
    roles = {m["email"]: m["role"] for m in boss.get("/api/orgs/acme-corp/members").json()["members"]}
    assert roles == {"boss@example.com": "owner", "dev@example.com": "member"}
    dev = login(server, "dev@example.com", "dev password 123")
    assert [o["slug"] for o in dev.get("/api/auth/me").json()["orgs"]] == ["acme-corp"]


def test_migrate_applies_then_reports_up_to_date(tmp_path: Path) -> None:
    first = run_cli("migrate", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied: ") and "0001_accounts" in first.stdout
    second = run_cli("migrate", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "database is up to date"


def test_jobs_run_of_an_unknown_job_exits_2(tmp_path: Path) -> None:
    r = run_cli("jobs", "run", "nosuchjob", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert r.returncode == 2
    assert "nosuchjob" in r.stderr


@pytest.mark.parametrize(
    ("toml", "needle"),
    [("[server]\nbogus_key = 1\n", "bogus_key"), ("[auth]\nsession_hours = \"long\"\n", "session_hours"),
     ("not = [valid toml", "TOML"), ("[nosuchsection]\nx = 1\n", "nosuchsection"),
     ("[auth]\nlogin_max_failures = 0\n", "login_max_failures"),
     ("[auth]\nlogin_window_minutes = -1\n", "login_window_minutes")],
)
def test_a_bad_config_file_exits_2_naming_the_key(tmp_path: Path, toml: str, needle: str) -> None:
    config = tmp_path / "scrywatch.toml"
    config.write_text(toml)
    for args in (("serve", "--port", "0"), ("migrate",), ("jobs", "run", "x")):
        r = run_cli(*args, "--config", str(config), "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert needle in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


def test_a_bad_environment_setting_exits_2(tmp_path: Path) -> None:
    env = {**cli_env(), "SCRYWATCH_SERVER_NOPE": "1"}
    r = subprocess.run([sys.executable, "-m", "scrywatch", "migrate", "--data-dir", str(tmp_path / "d")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "SCRYWATCH_SERVER_NOPE" in r.stderr
