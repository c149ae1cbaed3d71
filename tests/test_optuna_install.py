"""The sweeper plugin ships with the project (slow): a normal (non-editable) install of trainlab's wheel puts
`hydra_plugins/trainlab_optuna_sweeper` beside `trainlab`, as a namespace package that Hydra's plugin discovery
merges with the other launchers' and sweepers'. (The editable install is what the fast tests run with.)"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import runner
from helpers.repo_copy import copy_repo

DISCOVER = """
import json, sys
site, editable_src = sys.argv[1], sys.argv[2]
sys.path = [site] + [p for p in sys.path if p != editable_src]
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
sweepers = Plugins.instance().discover(Sweeper)
print(json.dumps({f"{p.__module__}.{p.__name__}": sys.modules[p.__module__].__file__ for p in sweepers}))
"""


@pytest.mark.slow
def test_a_normal_install_ships_the_plugin_and_hydra_discovers_it(tmp_path: Path) -> None:
    source = copy_repo(tmp_path / "repo")
    pip = [sys.executable, "-m", "pip"]
    built = runner.run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)])
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = tmp_path.glob("trainlab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "hydra_plugins/trainlab_optuna_sweeper/optuna_sweeper.py" in names
    assert "hydra_plugins/__init__.py" not in names  # a namespace package, shared with the other plugins
    assert "trainlab/sweeps/sweeper.py" in names
    site = tmp_path / "site"
    installed = runner.run([*pip, "install", "-q", "--no-deps", "--target", str(site), str(wheel)])
    assert installed.returncode == 0, installed.stderr[-3000:]
    editable_src = str(Path(__file__).resolve().parents[1] / "src")
    found = runner.run(runner.python_code(DISCOVER, str(site), editable_src))
    assert found.returncode == 0, found.stderr[-3000:]
    plugins = json.loads(found.stdout.strip().splitlines()[-1])
    ours = plugins["hydra_plugins.trainlab_optuna_sweeper.optuna_sweeper.OptunaSweeper"]
    assert Path(ours).is_relative_to(site)  # the installed copy, not the checkout's
    assert "hydra._internal.core_plugins.basic_sweeper.BasicSweeper" in plugins
