"""The README's curl quick start, run as written against a live server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import LiveServer

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
