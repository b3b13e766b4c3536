from __future__ import annotations

import json

import pytest
from conftest import GUIDE, write_jsonl
from support import make_rows

from newsclf.model.predict import load_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from click.testing import CliRunner

    from newsclf.cli import main

    tmp = tmp_path_factory.mktemp("model")
    train_file = write_jsonl(tmp / "train.jsonl", make_rows(60, 1))
    test_file = write_jsonl(tmp / "test.jsonl", make_rows(30, 2))
    result = CliRunner().invoke(
        main,
        [
            "--db",
            str(tmp / "db.sqlite"),
            "train",
            "--guide",
            str(GUIDE),
            "--data",
            str(train_file),
            "--out",
            str(tmp / "model"),
            "--folds",
            "3",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return tmp, train_file, test_file


def test_train_writes_model_metrics_and_card(trained):
    tmp, _, _ = trained
    model_dir = tmp / "model"
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert set(metrics) == {"topics", "stance"}
    assert (
        metrics["topics"]["macro_f1"] > 0.8
    )  # distinct vocabularies: cross-validation must find them
    assert "forward-chaining" in metrics["topics"]["split"]  # auto: no outlets, so by time
    card = (model_dir / "card.md").read_text()
    assert "## Scheme `topics`" in card and "Macro-F1" in card


def test_classify_writes_cats_and_labels(trained, run):
    tmp, _, test_file = trained
    out = tmp / "pred.jsonl"
    result = run("classify", "--model", str(tmp / "model"), str(test_file), "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 30
    for row in rows:
        assert set(row["cats"]) == {"topics", "stance"}
        assert set(row["cats"]["topics"]) == {
            "labor",
            "safety",
            "regulation",
            "industry",
            "products",
            "other",
        }
        assert all(0.0 <= p <= 1.0 for p in row["cats"]["topics"].values())
        assert len(row["labels"]["stance"]) == 1 and row["targets"]["stance"] == "OpenAI"
    gold = {
        r["id"]: r["labels"]["topics"] for r in map(json.loads, test_file.read_text().splitlines())
    }
    hits = sum(set(r["labels"]["topics"]) == set(gold[r["id"]]) for r in rows)
    assert hits >= 20


def test_classify_save_stores_predictions(trained, run, tmp_path):
    tmp, _, test_file = trained
    result = run(
        "classify",
        "--model",
        str(tmp / "model"),
        str(test_file),
        "--save",
        "--out",
        str(tmp_path / "p.jsonl"),
    )
    assert result.exit_code == 0
    from newsclf.store import Store

    with Store(tmp_path / "newsclf.db") as store:
        preds = store.predictions()
        assert len(preds) == 60 and store.count_articles() == 30
        assert {p["scheme"] for p in preds} == {"topics", "stance"}


def test_classify_works_in_chunks_and_an_interrupted_run_keeps_the_chunks_before(
    trained, run, tmp_path, monkeypatch
):
    """Chunks of 4: a bad line is counted, not fatal; a failure in the 4th chunk leaves the first 3
    written
    and stored; the rerun completes without duplicating anything."""
    import newsclf.classify
    from newsclf.store import Store

    tmp, _, test_file = trained
    lines = test_file.read_text().splitlines()
    (tmp_path / "in.jsonl").write_text("\n".join(lines[:5] + ["{broken"] + lines[5:]) + "\n")
    monkeypatch.setattr(newsclf.classify, "CLASSIFY_CHUNK", 4)
    real, calls = newsclf.classify.classify_chunk, []

    def failing_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(newsclf.classify, "classify_chunk", failing_on_the_fourth)
    out = tmp_path / "p.jsonl"
    args = (
        "classify",
        "--model",
        str(tmp / "model"),
        str(tmp_path / "in.jsonl"),
        "--save",
        "--out",
        str(out),
    )
    with pytest.raises(RuntimeError, match="killed"):
        run(*args)
    first = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    order = [json.loads(line)["id"] for line in lines]
    assert first == order[:12]
    with Store(tmp_path / "newsclf.db") as store:
        assert store.count_articles() == 12 and len(store.predictions()) == 24
    result = run(*args)
    assert (
        result.exit_code == 1
        and "1 lines rejected" in result.output
        and "classified 30 articles" in result.output
    )
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == order
    with Store(tmp_path / "newsclf.db") as store:
        assert store.count_articles() == 30 and len(store.predictions()) == 60
    again = run(
        "classify",
        "--model",
        str(tmp / "model"),
        "--from-store",
        "--out",
        str(tmp_path / "s.jsonl"),
    )
    assert again.exit_code == 0
    assert sorted(
        json.loads(line)["id"] for line in (tmp_path / "s.jsonl").read_text().splitlines()
    ) == sorted(order)


def test_evaluate_prints_per_label_metrics_and_json(trained, run, tmp_path):
    tmp, _, test_file = trained
    out = tmp_path / "m.json"
    result = run(
        "evaluate", "--model", str(tmp / "model"), "--data", str(test_file), "--json", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "scheme topics: macro-F1" in result.output and "labor" in result.output
    metrics = json.loads(out.read_text())
    assert metrics["topics"]["n"] == 30 and metrics["topics"]["macro_f1"] > 0.7
    assert set(metrics["stance"]["labels"]) == {"favor", "against", "neutral", "unrelated"}
    assert "expected calibration error" in result.output
    cal = metrics["topics"]["calibration"]
    assert (
        sum(b["n"] for b in cal["bins"]) == 30 * 6 and 0.0 <= cal["ece"] <= 1.0
    )  # every item x label


def test_python_api_exposes_the_scikit_learn_estimator(trained):
    tmp, _, _ = trained
    model = load_model(tmp / "model")
    clf = model.pipeline("topics")
    assert hasattr(clf, "fit") and hasattr(clf, "predict_proba")
    docs = [
        {
            "text": "data labelers demand contracts and a low hourly wage",
            "title": "",
            "lang": "en",
            "target": "",
        }
    ]
    assert "labor" in clf.predict(docs)[0]


def test_train_from_store_and_errors(run, tmp_path):
    rows = make_rows(40, 3)
    write_jsonl(tmp_path / "l.jsonl", rows)
    assert run("import", str(tmp_path / "l.jsonl"), "--guide", str(GUIDE)).exit_code == 0
    result = run("train", "--guide", str(GUIDE), "--out", str(tmp_path / "m"), "--folds", "3")
    assert result.exit_code == 0 and (tmp_path / "m" / "model.joblib").exists()
    missing = run("classify", "--model", str(tmp_path), str(tmp_path / "l.jsonl"))
    assert missing.exit_code == 1 and "not a newsclf model directory" in missing.output
    empty = run(
        "train", "--guide", str(GUIDE), "--out", str(tmp_path / "m2"), db=str(tmp_path / "empty.db")
    )
    assert empty.exit_code == 1 and "no scheme had enough labeled items" in empty.output


def test_a_model_of_an_older_format_is_refused_with_a_clear_message(trained, run, tmp_path):
    import shutil

    from newsclf.errors import ModelError

    tmp, _, test_file = trained
    old = tmp_path / "old-model"
    shutil.copytree(tmp / "model", old)
    meta = json.loads((old / "meta.json").read_text())
    del meta["model_format"]  # as written before formats were numbered
    (old / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="model format 1 .* Retrain it with `newsclf train`"):
        load_model(old)
    result = run("classify", "--model", str(old), str(test_file))
    assert result.exit_code == 1 and "Retrain it" in result.output  # as for a missing model
    from newsclf.model.train import MODEL_FORMAT

    assert load_model(tmp / "model").meta["model_format"] == MODEL_FORMAT == 3


def test_classify_and_import_read_jsonl_from_stdin_in_a_pipe(trained, tmp_path):
    """`-` is standard input: the real console script in a pipe, one bad line named as
    <stdin>:LINE."""
    import subprocess
    import sys
    from pathlib import Path

    tmp, _, test_file = trained
    script = Path(sys.executable).with_name("newsclf")
    lines = test_file.read_text().splitlines()[:3]
    piped = "\n".join([lines[0], "{broken", *lines[1:]]) + "\n"
    command = [
        str(script),
        "--db",
        str(tmp_path / "db.sqlite"),
        "classify",
        "--model",
        str(tmp / "model"),
        "-",
    ]
    done = subprocess.run(command, input=piped, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr  # one line rejected, the rest classified
    assert "<stdin>:2: not valid JSON" in done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in rows] == [json.loads(line)["id"] for line in lines]
    assert all(set(r["labels"]) == {"topics", "stance"} for r in rows)

    plain = [
        json.dumps({k: v for k, v in json.loads(line).items() if k != "labels"}) for line in lines
    ]
    done = subprocess.run(
        [str(script), "--db", str(tmp_path / "db.sqlite"), "import", "-"],
        input="\n".join(plain + [lines[0]]) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    # The last line carries labels and no guide was given: refused by its stdin line number, the
    # rest stored.
    assert done.returncode == 1 and "<stdin>:4: the line has labels" in done.stderr
    assert "articles: 3 new" in done.stdout

    # evaluate --data -: the held-out file piped in scores as the file itself does.
    done = subprocess.run(
        [str(script), "evaluate", "--model", str(tmp / "model"), "--data", "-"],
        input=test_file.read_text(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    from_file = subprocess.run(
        [str(script), "evaluate", "--model", str(tmp / "model"), "--data", str(test_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "macro-F1" in done.stdout, done.stderr
    assert done.stdout.replace("<stdin>", str(test_file)) == from_file.stdout


def test_without_its_own_target_an_article_gets_a_stance_toward_each_target_it_mentions(
    trained, run, tmp_path
):
    tmp, _, _ = trained
    rows = [
        {
            "id": "two",
            "lang": "en",
            "title": "Musk and OpenAI",
            "text": "Elon Musk criticised OpenAI. Open AI replied.",
        },
        {
            "id": "none",
            "lang": "en",
            "title": "Harvest",
            "text": "Farmers in the valley expect a good rice harvest.",
        },
        {
            "id": "own",
            "lang": "en",
            "title": "x",
            "text": "Elon Musk criticised OpenAI.",
            "target": "OpenAI",
        },
    ]
    path = write_jsonl(tmp_path / "new.jsonl", rows)
    out = tmp_path / "pred.jsonl"
    result = run(
        "classify",
        "--model",
        str(tmp / "model"),
        str(path),
        "--save",
        "--out",
        str(out),
        db=tmp_path / "p.db",
    )
    assert result.exit_code == 0, result.output
    got = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert [s["target"] for s in got["two"]["stances"]["stance"]] == ["OpenAI", "Elon Musk"]
    assert all(len(s["labels"]) == 1 for s in got["two"]["stances"]["stance"])
    assert got["none"]["stances"]["stance"] == [] and got["none"]["labels"]["stance"] == []
    assert (
        "stances" not in got["own"] and got["own"]["targets"]["stance"] == "OpenAI"
    )  # a record's target wins
    from newsclf.store import Store

    with Store(tmp_path / "p.db") as store:
        stance = sorted(
            (p["article_id"], p["target"]) for p in store.predictions() if p["scheme"] == "stance"
        )
    assert stance == [("own", "OpenAI"), ("two", "Elon Musk"), ("two", "OpenAI")]


def test_training_over_a_model_swaps_the_directory_whole_and_mixed_files_are_refused(
    trained, run, tmp_path
):
    """Issue #35: a kill during `train` used to leave a new model.joblib beside the old meta.json,
    loaded silently."""
    import shutil

    src, _, test_file = trained
    model = tmp_path / "model"
    shutil.copytree(src / "model", model)
    (model / "notes.txt").write_text("mine", encoding="utf-8")
    old_id = json.loads((model / "meta.json").read_text())["model_id"]
    old_weights = (model / "model.joblib").read_bytes()
    other = write_jsonl(tmp_path / "other.jsonl", make_rows(40, 3))
    result = run("train", "--guide", GUIDE, "--data", other, "--out", model, "--folds", "2")
    assert result.exit_code == 0, result.output
    meta = json.loads((model / "meta.json").read_text())
    assert meta["model_id"] != old_id and set(meta["files"]) == {
        "model.joblib",
        "guide.yaml",
        "metrics.json",
        "card.md",
    }
    assert (model / "notes.txt").read_text() == "mine"
    assert [
        p.name for p in tmp_path.iterdir() if p.name.startswith(".")
    ] == []  # no temporary dir left
    assert (model / "model.joblib").read_bytes() != old_weights

    (model / "model.joblib").write_bytes(
        old_weights
    )  # what a kill between two file writes left behind
    result = run("classify", "--model", model, test_file, "--out", tmp_path / "out.jsonl")
    assert result.exit_code == 1
    assert (
        f"{model}: model.joblib is not the file model {meta['model_id']} was written with"
        in result.output
    )
    assert not (tmp_path / "out.jsonl").exists()
