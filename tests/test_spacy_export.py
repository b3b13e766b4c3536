"""An exported spaCy pipeline, loaded in a fresh process, gives the same labels as `newsclf
classify`."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import write_jsonl
from support import SPACY_SCRIPT, classify_cli, make_rows, train_cli


def test_spacy_load_in_a_fresh_process_matches_classify(run, tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", make_rows(60, 1))
    assert train_cli(run, train, tmp_path / "m", "--folds", "3").exit_code == 0
    rows = make_rows(15, 4)
    rows[3]["target"] = "Elon Musk"  # a record's own target must reach the spaCy component too
    data = write_jsonl(tmp_path / "new.jsonl", rows)
    assert (
        run(
            "export-model", "--model", str(tmp_path / "m"), "--spacy", str(tmp_path / "sp")
        ).exit_code
        == 0
    )
    classified = classify_cli(run, tmp_path / "m", data, tmp_path / "c.jsonl")
    done = subprocess.run(
        [sys.executable, "-c", SPACY_SCRIPT, str(tmp_path / "sp"), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    from_spacy = json.loads(done.stdout)
    assert len(from_spacy) == 15
    for r in from_spacy:
        mine = classified[r["id"]]
        assert r["labels"] == mine["labels"]
        for scheme, cats in mine["cats"].items():
            for label, p in cats.items():
                assert abs(r["cats"][f"{scheme}:{label}"] - p) < 1e-3
