"""Parallel runs: two processes on one empty data dir download each file once and both succeed; run dirs never
collide."""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

from helpers import runner
from helpers.fake_data import fake_mnist

from trainlab.config.run_dirs import register_resolver, resolve_run_dir, run_dir

LOAD = """
import json, sys, time
from pathlib import Path
from trainlab.data import MNISTDataModule
from trainlab.data.files import RemoteFile

pins, data_dir, cache_dir, mirror, go = json.loads(sys.argv[1])
MNISTDataModule.files = {key: RemoteFile(**pin) for key, pin in pins.items()}
while not Path(go).exists():  # start together
    time.sleep(0.01)
dm = MNISTDataModule(data_dir, cache_dir, val_size=10, mirrors=[mirror])
dm.setup()
print(json.dumps({split: len(y) for split, (x, y) in dm.splits.items()}))
"""


class SlowCountingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files slowly (so concurrent downloads overlap) and counts the requests per path."""

    requests: ClassVar[Counter] = Counter()

    def do_GET(self) -> None:
        SlowCountingHandler.requests[self.path] += 1
        time.sleep(0.5)
        super().do_GET()

    def log_message(self, *args) -> None:
        pass


def test_two_processes_on_an_empty_data_dir_both_succeed(tmp_path: Path) -> None:
    pins = fake_mnist(tmp_path / "served")
    SlowCountingHandler.requests = Counter()
    handler = functools.partial(SlowCountingHandler, directory=str(tmp_path / "served"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        mirror = f"http://127.0.0.1:{server.server_address[1]}/"
        go = tmp_path / "go"
        pin_data = {k: asdict(v) for k, v in pins.items()}
        args = json.dumps([pin_data, str(tmp_path / "data"), str(tmp_path / "cache"), mirror, str(go)])
        procs = [runner.start(runner.python_code(LOAD, args), env={"OMP_NUM_THREADS": "1"}) for _ in range(2)]
        time.sleep(3)  # both processes have imported torch and wait at the start line
        go.touch()
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        server.shutdown()
        server.server_close()
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert json.loads(out.strip().splitlines()[-1]) == {"train": 50, "val": 10, "test": 20}
    # The file lock: each file was downloaded once, by one of the two, and is complete; no temporary files left.
    assert SlowCountingHandler.requests == Counter({f"/{pin.name}": 1 for pin in pins.values()})
    for pin in pins.values():
        assert (tmp_path / "data" / "mnist" / pin.name).read_bytes() == (tmp_path / "served" / pin.name).read_bytes()
    assert len(list((tmp_path / "cache").glob("mnist-*.pt"))) == 1
    assert not list((tmp_path / "cache").glob("*.tmp"))


def test_run_dirs_never_collide(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = Path(run_dir(str(runs), "2026-01-01_00-00-00_000000"))
    first.mkdir(parents=True)
    second = Path(run_dir(str(runs), "2026-01-01_00-00-00_000000"))  # the same microsecond
    assert second != first and second.name == f"{first.name}_{os.getpid()}"

    # Hydra resolves the run dir again after making it: the resolver keeps its first answer.
    register_resolver()
    chosen = Path(resolve_run_dir(str(runs), "2026-01-01_00-00-00_000001"))
    chosen.mkdir()
    assert Path(resolve_run_dir(str(runs), "2026-01-01_00-00-00_000001")) == chosen
