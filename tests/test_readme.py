"""The README's curl quick start and Python SDK example, run as written against a live server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import LiveServer, register, wait_for

README = Path(__file__).resolve().parent.parent / "README.md"


def quick_start_script() -> str:
    """The ```sh block under "## Quick start with curl"."""
    text = README.read_text()
    section = text.split("## Quick start with curl", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert m, "no ```sh block in the quick start section"
    return m.group(1)


def test_readme_quick_start_runs_as_written(server: LiveServer) -> None:
    script = quick_start_script()
    assert "SW=http://127.0.0.1:8080" in script
    script = script.replace("SW=http://127.0.0.1:8080", f"SW={server.url}", 1)
    # The block calls `python3`: make sure it is this interpreter's directory that answers.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert '{"status":202,"inserted":1}' in done.stdout
    assert '"message":"payment failed for order 42"' in done.stdout
    assert '"total":1' in done.stdout


def test_readme_python_sdk_example_runs_as_written(server: LiveServer) -> None:
    """The ```python block under "## Python SDK", with this server's URL and a real key."""
    account = register(server)
    section = README.read_text().split("## Python SDK", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert m, "no ```python block in the Python SDK section"
    script = m.group(1)
    assert '"http://127.0.0.1:8080", "sw_..."' in script
    script = script.replace('"http://127.0.0.1:8080", "sw_..."', f'"{server.url}", "{account.api_key}"', 1)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

    def logs() -> list[dict[str, object]]:
        r = account.client.get(f"/api/orgs/{account.org}/projects/{account.project}/logs")
        return r.json()["results"] if len(r.json()["results"]) == 3 else []

    found = {e["message"]: e for e in wait_for(logs, timeout=10)}
    assert found["payment captured"]["metadata"] == {"order_id": 42}
    assert found["payment captured"]["user_id"] == "u_17" and found["payment captured"]["service"] == "billing"
    assert found["card declined"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    failed = found["nightly job failed"]
    assert failed["level"] == "error" and "ZeroDivisionError" in failed["metadata"]["exception"]["traceback"]
