"""trainer=ddp_cpu: 2 gloo processes under Hydra share one run dir, split every epoch into disjoint shards, and
only rank zero writes metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.training import read_metrics


@pytest.mark.slow
def test_ddp_cpu_trains_an_epoch_on_disjoint_shards(run_entry, tmp_path: Path) -> None:
    run, samples = tmp_path / "run", tmp_path / "samples"
    result = run_entry(
        "train",
        "trainer=ddp_cpu",
        "trainer.max_epochs=1",
        "data.val_size=58000",  # 2000 training images: 10 steps of 100 per rank
        "data.batch_size=100",
        "print_config=false",
        "+callbacks.record._target_=helpers.probes.RecordSamples",
        f"+callbacks.record.out_dir={samples}",
        env={"OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((samples / f"samples_rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2] and ranks[0]["pid"] != ranks[1]["pid"]
    seen = [r["indices"] for r in ranks]
    assert [len(s) for s in seen] == [1000, 1000]  # the same number of steps on both ranks
    assert not set(seen[0]) & set(seen[1])  # disjoint
    assert set(seen[0]) | set(seen[1]) == set(range(2000))  # together: every sample once
    assert all(r["labels"] == r["labels_at_indices"] for r in ranks)  # the batches really held those samples

    # One run dir; metrics from rank zero, reduced over both ranks (val: all 58000 images).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "samples"]
    metrics = read_metrics(run)
    assert metrics["status"] == "completed" and metrics["epochs"] == 1
    assert metrics["test/acc"] > 0.5
    assert round(metrics["val/acc"] * 58000, 1) % 1 == 0
    assert (run / ".hydra" / "config.yaml").is_file() and (run / "train_ddp_process_1.log").is_file()
