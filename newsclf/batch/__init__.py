"""Batch jobs: the incremental feed job (`run.py`) and shard processing over files (`shards.py`).

    from newsclf.batch.shards import run_batch
    summary = run_batch("model/", ["crawl.warc.gz", "a.jsonl"], "out/", engine="local", workers=4)

    from newsclf.batch.run import run_feeds
    summary = run_feeds("newsclf.db", "feeds.opml", "model/", out_dir="out/")

Both are rerun-safe: a run killed at any point and started again loses nothing and writes nothing
twice (see each module's notes on how).
"""
