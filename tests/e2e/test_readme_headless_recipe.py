"""The README's headless recipe, run as written: its sh block in bash, in a fresh profile, with no keyring and
no terminal input, must print the sync's JSON and leave nothing running."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADING = "A headless site"

pytestmark = pytest.mark.e2e


def recipe() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split(HEADING, 1)[1]
    block = re.search(r"```sh\n(.*?)```", after, flags=re.S)
    assert block is not None, f"no sh block after '{HEADING}' in the README"
    return block.group(1)


def test_the_readme_recipe_runs_unattended_and_prints_the_sync_json(tmp_path) -> None:
    home, temp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()
    script = tmp_path / "recipe.sh"
    script.write_text(recipe(), encoding="utf-8")
    bin_dir = Path(sys.executable).parent  # this venv's `atlas-desktop` and `python`, first on PATH
    assert (bin_dir / "atlas-desktop").exists(), "the package is not installed in this environment"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "TMPDIR": str(temp),
        "ATLAS_DESKTOP_HOME": str(home / "profile"),
        "PYTHONPATH": str(ROOT),  # the code of this checkout, whatever the venv has installed
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",  # a server: no keyring
        "LANG": "C.UTF-8",
    }
    process = subprocess.Popen(["bash", str(script)], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # fmt: skip
    try:
        out, err = process.communicate(timeout=60)
    finally:
        try:  # whatever the recipe left running (its sandbox, if it failed before `kill`)
            os.killpg(process.pid, signal.SIGKILL)
            leftovers = True
        except ProcessLookupError:
            leftovers = False
    assert process.returncode == 0, f"stdout:\n{out}\nstderr:\n{err}"
    summary = json.loads(out[out.index("{") :])
    assert summary["status"] in {"success", "partial"}, summary
    assert "error:" not in err, err  # no step failed on the way (a prompt, a locked profile)
    assert not leftovers, "the recipe left a process running (its sandbox is stopped at the end)"
