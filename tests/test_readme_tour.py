"""The README's five-minute tour, run as written: every command, in order, in a fresh folder, each
exiting 0.

The commands are read out of README.md, so the tour and this test cannot drift apart. The demo site
is
served on 127.0.0.1 by the very command the README tells the reader to start; only its port is this
test's own (a free one), so two test runs on one machine do not collide.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_PORT = "8765"


def tour_block() -> str:
    """The shell block under the README's tour heading."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## A five-minute tour", 1)[1]
    return section.split("```sh\n", 1)[1].split("\n```", 1)[0]


def tour_commands(block: str) -> list[str]:
    """The block's commands: every line that is neither blank nor a comment."""
    return [
        line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def server_command(block: str) -> str:
    """The command the tour's comments say to start the demo site with."""
    lines = [line.lstrip("# ").strip() for line in block.splitlines() if "http.server" in line]
    assert len(lines) == 1, "the tour should name one command that serves the demo site"
    return lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the demo site's server did not listen on port {port}")


def test_the_tour_is_read_from_the_readme():
    block = tour_block()
    commands = tour_commands(block)
    assert commands[0] == ". .venv/bin/activate"
    assert sum(c.startswith("newsclf ") for c in commands) >= 18
    assert any(f"127.0.0.1:{README_PORT}/feeds.opml" in c for c in commands)
    assert server_command(block).endswith(f" {README_PORT}")


def test_every_command_of_the_readme_tour_exits_0(tmp_path):
    block = tour_block()
    commands = tour_commands(block)
    port = str(free_port())
    # A fresh clone: the repository's corpus and guides, and the virtual environment running these
    # tests.
    for name in ("corpora", "label_guides"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = {
        k: v for k, v in os.environ.items() if k not in ("NEWSCLF_DB", "VIRTUAL_ENV", "PYTHONPATH")
    }
    env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    server = subprocess.Popen(
        ["bash", "-c", "exec " + server_command(block).replace(README_PORT, port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(int(port))
        script = []
        for i, command in enumerate(commands):
            command = command.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}")
            # Braces, not a subshell: `.` and `export` carry on to the next command, as in a
            # terminal.
            script.append(
                f"date +%s.%N >> tour-clock.txt; {{ {command}\n}} > tour-{i}.log 2>&1; echo $? >>"
                " tour-rc.txt"
            )
        script.append("date +%s.%N >> tour-clock.txt")
        (tmp_path / "tour.sh").write_text("\n".join(script) + "\n", encoding="utf-8")
        subprocess.run(["bash", "tour.sh"], cwd=tmp_path, env=env, timeout=900, check=False)
    finally:
        server.terminate()
        server.wait(timeout=10)
    codes = [int(x) for x in (tmp_path / "tour-rc.txt").read_text().split()]
    assert len(codes) == len(commands)
    clock = [float(x) for x in (tmp_path / "tour-clock.txt").read_text().split()]
    # shown with -s, and kept in the temp folder: where the time goes
    for i, command in enumerate(commands):
        print(f"{clock[i + 1] - clock[i]:6.1f} s  {command}")
    failed = [
        f"{commands[i]}\n  -> exit {code}:\n{(tmp_path / f'tour-{i}.log').read_text()[-2000:]}"
        for i, code in enumerate(codes)
        if code != 0
    ]
    assert not failed, "\n\n".join(failed)

    def log(prefix: str) -> str:
        return next(
            (tmp_path / f"tour-{i}.log").read_text()
            for i, c in enumerate(commands)
            if c.startswith(prefix)
        )

    collected = re.search(r"fetched (\d+), new (\d+).*failed (\d+)", log("newsclf collect --feeds"))
    assert collected and int(collected.group(2)) > 50 and collected.group(3) == "0", log(
        "newsclf collect --feeds"
    )
    assert "rejected lines: 0" in log(
        "newsclf import corpora/ai-discourse-demo/labels/adjudicated.jsonl"
    )
    metrics = json.loads((tmp_path / "test-metrics.json").read_text())
    assert set(metrics) == {"about_ai", "topics", "stance"}
    for name in (
        "codebook.md",
        "agreement.md",
        "model/metrics.json",
        "model/card.md",
        "labeled.jsonl",
        "report/report.html",
        "everything.jsonl",
        "spacy-model/meta.json",
        "work.db",
    ):
        assert (tmp_path / name).is_file(), name
    assert list((tmp_path / "warc").iterdir())
