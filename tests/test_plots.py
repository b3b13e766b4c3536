"""Figures: one measurement crops as savefig's "tight" box does; workers draw the same files."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from support import share_rows

from newsclf.report import plots


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_one_measurement_crops_as_savefig_tight_does(tmp_path, monkeypatch):
    # The legend and title sit above the axes (small multiples) or right of them (by group):
    # the box must take them in exactly as bbox_inches="tight" measures them.
    tight = []
    real_save = plots._save

    def save_tight(fig, out_dir, name):
        tight.append(tmp_path / f"{name}-tight.png")
        fig.savefig(tight[-1], dpi=plots.PNG_DPI, bbox_inches="tight")
        return real_save(fig, out_dir, name)

    monkeypatch.setattr(plots, "_save", save_tight)
    rows = share_rows()
    paths = plots.small_multiples(rows, "outlet", "month", "t", tmp_path, "sm")
    paths += plots.by_group(
        [r for r in rows if r["month"] == "2023-01"], "outlet", "t", tmp_path, "bg"
    )
    paths += plots.share_over_time(
        [r for r in rows if r["outlet"].startswith("Outlet 0")], "month", "t", tmp_path, "ot"
    )
    pngs = [p for p in paths if p.suffix == ".png"]
    assert len(pngs) == len(tight) == 3 and all(p.with_suffix(".svg").exists() for p in pngs)
    for ours, reference in zip(pngs, tight, strict=True):
        assert np.array_equal(_pixels(ours), _pixels(reference))
    assert not plt.get_fignums()  # every figure closed


DRAW_BOTH_WAYS = """
import sys
from pathlib import Path
from support import share_rows
from newsclf.report import plots

out, rows = Path(sys.argv[1]), share_rows()
for workers in (1, 2):
    with plots.Drawer(workers) as drawer:
        assert (drawer._pool is not None) == (workers == 2)
        drawer.draw(plots.small_multiples, rows, "outlet", "month", "t", out / str(workers), "sm")
        feb = [r for r in rows if r["month"] == "2023-02"]
        drawer.draw(plots.by_group, feb, "outlet", "t", out / str(workers), "bg")
        print(workers, [[p.name for p in paths] for paths in drawer.results()])
"""


def test_workers_draw_the_same_files_as_this_process(tmp_path):
    # In a fresh interpreter: a test run's own threads (servers, pools of earlier tests) rightly
    # keep the drawer from forking.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", DRAW_BOTH_WAYS, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parent,
    )
    assert done.returncode == 0, done.stderr
    one, two = done.stdout.splitlines()
    assert one[2:] == two[2:] == "[['sm.png', 'sm.svg'], ['bg.png', 'bg.svg']]"
    for name in ("sm.png", "bg.png"):  # byte for byte
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()


def test_a_process_with_threads_draws_in_place(tmp_path):
    # Forking a process that runs other threads can copy a lock one of them holds.
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with plots.Drawer(2) as drawer:
            assert drawer._pool is None
            drawer.draw(plots.by_group, share_rows(2, 1), "outlet", "t", tmp_path, "bg")
            assert [p.name for p in drawer.results()[0]] == ["bg.png", "bg.svg"]
    finally:
        stop.set()
        thread.join()
