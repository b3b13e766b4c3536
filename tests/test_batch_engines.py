"""`newsclf batch`: the process pool and a real Dask LocalCluster write the same files; reruns skip
done shards."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from support import ARTICLES, site_pages

from newsclf.article import write_csv
from newsclf.batch.inputs import write_warc
from newsclf.batch.outputs import read_rows
from newsclf.batch.shards import forks_safely, output_files, run_batch
from newsclf.errors import InputError


@pytest.fixture
def small_inputs(tmp_path) -> list[Path]:
    """A JSONL, a CSV and a WARC (5 article pages and a menu page) from the demo corpus."""
    jsonl = tmp_path / "in" / "a.jsonl"
    jsonl.parent.mkdir()
    jsonl.write_text(
        "".join(a.to_json() + "\n" for a in ARTICLES[:12]) + "\n{not json\n", encoding="utf-8"
    )
    csv_path = tmp_path / "in" / "b.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        write_csv(ARTICLES[12:20], fh)
    warc = tmp_path / "in" / "c.warc.gz"
    write_warc(warc, site_pages(5))
    return [jsonl, csv_path, warc]


def tree(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(directory.iterdir())
        if not p.name.startswith(".") and p.is_file()
    }


def test_process_pool_and_dask_cluster_write_identical_outputs(batch_model, small_inputs, tmp_path):
    assert forks_safely(
        batch_model
    )  # a linear model: loaded once in this process, inherited by the local workers
    local = run_batch(
        batch_model,
        small_inputs,
        tmp_path / "local",
        engine="local",
        workers=2,
        shard_size=5,
        batch_size=4,
    )
    dask = run_batch(
        batch_model,
        small_inputs,
        tmp_path / "dask",
        engine="dask",
        workers=2,
        shard_size=5,
        batch_size=4,
    )
    assert local.failed == [] and dask.failed == []
    assert (local.rows, local.rejected, local.not_articles) == (
        dask.rows,
        dask.rejected,
        dask.not_articles,
    )
    assert local.rejected == 1  # the bad JSON line, reported, not fatal
    assert local.not_articles == 1  # the menu page has no article text
    # Every record not classified is listed with why, one line each, beside the rows.
    why = [
        json.loads(line)
        for p in sorted((tmp_path / "local" / "reasons").glob("*.jsonl"))
        for line in p.read_text(encoding="utf-8").splitlines()
    ]
    kinds = Counter(
        (
            "rejected"
            if w["why"].startswith("rejected")
            else "not labeled"
            if w["why"].startswith("not labeled")
            else "not an article"
        )
        for w in why
    )
    assert kinds["rejected"] == 1 and kinds["not an article"] == 1
    assert kinds["not labeled"] == sum(local.out_of_scope.values())
    assert local.reasons == dask.reasons and sum(local.reasons.values()) == len(why)
    a, b = tree(tmp_path / "local"), tree(tmp_path / "dask")
    assert sorted(a) == sorted(b) and len([n for n in a if n.endswith(".jsonl")]) == 3 + 1 + 2
    for name in a:
        assert a[name] == b[name], name
    rows = [row for path in output_files(tmp_path / "local") for row in read_rows(path)]
    expected = {a.id for a in ARTICLES[:20]} | {a.id for a in ARTICLES[:5]}
    assert {row["id"] for row in rows} == expected
    assert len(rows) == 12 + 8 + 5
    assert all(set(row["labels"]) == {"about_ai", "topics", "stance"} for row in rows)
    for path in output_files(tmp_path / "local"):  # sorted within each shard
        ids = [(r["id"], r["record"]) for r in read_rows(path)]
        assert ids == sorted(ids)


def test_rerun_skips_finished_shards_and_redoes_damaged_ones(batch_model, small_inputs, tmp_path):
    out = tmp_path / "out"
    first = run_batch(batch_model, small_inputs, out, workers=2, shard_size=5)
    files = output_files(out)
    before = {p.name: p.read_bytes() for p in files}
    damaged = files[0]
    damaged.write_bytes(
        damaged.read_bytes()[:-10]
    )  # a torn copy: its size no longer matches the marker
    files[1].with_suffix(".done").unlink()  # killed before the marker was written
    again = run_batch(batch_model, small_inputs, out, workers=2, shard_size=5)
    assert again.skipped == first.shards - 2 and again.rows == first.rows
    assert {p.name: p.read_bytes() for p in output_files(out)} == before
    with pytest.raises(InputError, match="another batch setting"):
        run_batch(batch_model, small_inputs, out, workers=1, shard_size=7)


def test_job_array_shares_cover_every_shard_once_and_cli_writes_parquet(
    batch_model, small_inputs, tmp_path, run
):
    out = tmp_path / "array"
    codes = []
    for index in range(3):
        result = run(
            "batch",
            "--model",
            batch_model,
            *small_inputs,
            "--out",
            out,
            "--workers",
            "1",
            "--shard-size",
            "5",
            "--shard-index",
            str(index),
            "--shard-count",
            "3",
            "--format",
            "parquet",
        )
        codes.append(result.exit_code)
        assert "batch: 2 shards" in result.output, result.output
    assert codes == [
        0,
        0,
        1,
    ]  # 6 shards; the third job's share holds the bad JSON line (exit 1, reported)
    rows = [row for path in output_files(out) for row in read_rows(path)]
    assert len(rows) == 25 and len({(r["source"], r["record"]) for r in rows}) == 25
    usage = run("batch", "--model", batch_model, *small_inputs, "--out", out, "--shard-index", "1")
    assert usage.exit_code == 2


def test_a_json_array_input_is_read_whole_and_numbered_by_item(batch_model, tmp_path):
    """A .json export holding one array (several items per line) is one shard; each item keeps its
    own number."""
    import json

    path = tmp_path / "export.json"
    items = [json.loads(a.to_json()) for a in ARTICLES[:3]]
    path.write_text(
        "["
        + json.dumps(items[0])
        + ", "
        + json.dumps(items[1])
        + ",\n"
        + '{"id": "no-text"},\n'
        + json.dumps(items[2])
        + "]\n",
        encoding="utf-8",
    )
    result = run_batch(batch_model, [path], tmp_path / "out", workers=1)
    assert (result.shards, result.rows, result.rejected) == (1, 3, 1)
    rows = [row for p in output_files(tmp_path / "out") for row in read_rows(p)]
    numbered = sorted((r["record"], r["id"]) for r in rows)
    assert numbered == [(0, items[0]["id"]), (1, items[1]["id"]), (3, items[2]["id"])]
