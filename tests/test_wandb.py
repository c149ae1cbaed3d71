"""W&B as a logger: offline automatically, the run's files read back, sweep groups, no API key on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.config import QUICK
from helpers.training import read_metrics
from helpers.wandb_file import read_run, run_files

from trainlab.loggers.wandb_logger import RUN_ID_FILE, choose_mode, has_credentials

FAKE_KEY = "0123456789abcdef0123456789abcdef0123beef"


def no_credentials(tmp_path: Path) -> dict[str, str]:
    """An environment without W&B credentials (whatever the machine running the tests has)."""
    return {"WANDB_API_KEY": "", "NETRC": str(tmp_path / "no-netrc")}


def test_mode_is_offline_without_credentials_or_when_asked(monkeypatch, tmp_path):
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert not has_credentials() and choose_mode() == "offline"

    monkeypatch.setenv("WANDB_API_KEY", FAKE_KEY)
    assert choose_mode() == "online"
    assert choose_mode(offline=True) == "offline"
    modes = {"offline": "offline", "dryrun": "offline", "disabled": "disabled", "online": "online"}
    for mode, expected in modes.items():
        monkeypatch.setenv("WANDB_MODE", mode)
        assert choose_mode() == expected

    monkeypatch.delenv("WANDB_API_KEY")
    monkeypatch.delenv("WANDB_MODE")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine api.wandb.ai\n  login user\n  password {FAKE_KEY}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert has_credentials() and choose_mode() == "online"


def test_offline_run_records_metrics_and_config(run_entry, tmp_path):
    result = run_entry("train", *QUICK, "logger=wandb", "+logger.wandb.tags=[quick,test]", env=no_credentials(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = tmp_path / "run"
    files = run_files(run_dir)
    assert len(files) == 1, files
    sync_dir = files[0].parent
    hint = f"wandb: offline run; upload it later with: wandb sync {sync_dir}"
    assert hint in (run_dir / "train.log").read_text()
    assert (result.stdout + result.stderr).count(str(sync_dir)) == 1, result.stdout  # wandb's own lines: silenced

    run = read_run(files[0])
    assert run.run_id == (run_dir / "wandb" / RUN_ID_FILE).read_text().strip()
    assert (run.project, run.job_type, run.group, run.name) == ("trainlab", "train", "", "run")
    assert run.tags == ["quick", "test"]

    # The whole resolved config, nested as in the YAML files.
    assert run.config["optimizer"]["lr"] == 0.003  # conf/optimizer/adamw.yaml, the default
    assert run.config["model"]["hidden"] == [256, 256]
    assert run.config["trainer"]["max_epochs"] == 1
    assert run.config["logger"]["wandb"]["job_type"] == "train"
    assert run.config["paths"]["output_dir"] == str(run_dir)

    # The logged metrics are the ones metrics.json reports.
    metrics = read_metrics(run_dir)
    for key in ("train/loss", "train/acc", "val/loss", "val/acc", "test/acc"):
        assert run.metric(key) == [pytest.approx(metrics[key])], key
    assert run.summary["test/acc"] == pytest.approx(metrics["test/acc"])
    assert max(run.metric("trainer/global_step")) == 20


def test_api_key_never_lands_in_the_run_dir(run_entry, tmp_path):
    # The key is in the environment AND pulled into the config by an interpolation: neither may reach a file.
    result = run_entry(
        "train",
        *QUICK,
        "logger=many",
        "+probe=${oc.env:WANDB_API_KEY}",
        "+hub_token=${oc.env:WANDB_API_KEY}",
        env={"WANDB_API_KEY": FAKE_KEY, "WANDB_MODE": "offline"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert FAKE_KEY not in result.stdout + result.stderr
    run_dir = tmp_path / "run"
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert len(files) > 10
    leaked = [str(p) for p in files if FAKE_KEY.encode() in p.read_bytes()]
    assert not leaked, leaked
    config = read_run(run_files(run_dir)[0]).config
    assert config["probe"] == "<redacted>"
    assert config["hub_token"] == "<redacted>"
    assert "<redacted>" in (run_dir / "csv" / "hparams.yaml").read_text()


@pytest.mark.slow
def test_multirun_jobs_share_the_sweep_group(run_entry, tmp_path):
    sweep = tmp_path / "sweep_lr"
    result = run_entry(
        "train",
        "hydra.mode=MULTIRUN",
        *QUICK,
        "logger=wandb",
        "optimizer.lr=1e-3,3e-3",
        f"hydra.sweep.dir={sweep}",
        env=no_credentials(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = [read_run(f) for job in ("0", "1") for f in run_files(sweep / job)]
    assert len(runs) == 2
    assert {r.group for r in runs} == {"sweep_lr"}
    assert {r.job_type for r in runs} == {"train"}
    assert len({r.run_id for r in runs}) == 2
    assert sorted(r.name for r in runs) == ["sweep_lr/0", "sweep_lr/1"]
    assert sorted(r.config["optimizer"]["lr"] for r in runs) == [1e-3, 3e-3]
    assert all(r.metric("test/acc") for r in runs)
