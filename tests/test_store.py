from __future__ import annotations

import sqlite3

import pytest

from newsclf.article import Article
from newsclf.errors import InputError, NewsclfError
from newsclf.store import SCHEMA_VERSION, Annotation, Store


def test_store_is_wal_and_versioned(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.schema_version == SCHEMA_VERSION
    with Store(path) as store:  # reopening applies nothing twice
        assert store.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewsclfError, match="newer than this newsclf knows"):
        Store(path)


def test_not_a_database_is_refused(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(NewsclfError, match="not a usable newsclf database"):
        Store(path)


def test_same_article_twice_changes_nothing_and_edits_update(tmp_path):
    with Store(tmp_path / "s.db") as store:
        a = Article(
            url="https://x.example/a",
            title="T",
            text="body",
            fetched_at="2023-01-01T00:00:00+00:00",
        )
        assert store.add_article(a) == "new"
        again = Article(
            url="https://x.example/a",
            title="T",
            text="body",
            fetched_at="2023-02-01T00:00:00+00:00",
        )
        assert store.add_article(again) == "unchanged"
        assert (
            store.add_article(Article(url="https://x.example/a", title="T", text="body v2"))
            == "updated"
        )
        assert store.count_articles() == 1
        assert store.get_article(a.id).text == "body v2"


def test_annotations_upsert_by_article_scheme_target_labeler(tmp_path):
    with Store(tmp_path / "s.db") as store:
        store.add_article(Article(id="a1", text="t"))
        ann = Annotation("a1", "stance", ("against",), "ana", target="OpenAI")
        assert store.add_annotations([ann]) == {"new": 1, "updated": 0, "unchanged": 0}
        assert store.add_annotations([ann]) == {"new": 0, "updated": 0, "unchanged": 1}
        other_target = Annotation("a1", "stance", ("favor",), "ana", target="Elon Musk")
        assert store.add_annotations([other_target])["new"] == 1
        assert len(store.annotations(scheme="stance")) == 2


def test_a_failed_write_rolls_back_the_whole_batch(tmp_path):
    with Store(tmp_path / "s.db") as store:
        store.add_article(Article(id="a1", text="t"))
        good = Annotation("a1", "topics", ("labor",), "ana")
        bad = Annotation("missing", "topics", ("labor",), "ana")
        with pytest.raises(InputError, match="unknown article 'missing'"):
            store.add_annotations([good, bad])
        assert store.annotations() == []


def test_an_outlet_is_stored_under_one_spelling_whichever_command_brings_it(tmp_path):
    from newsclf.article import Article

    with Store(tmp_path / "s.db") as store:
        store.add_article(Article(id="a", title="A", text="First text.", outlet="Daily Planet"))
        store.add_article(Article(id="b", title="B", text="Second text.", outlet=" daily  PLANET "))
    with Store(
        tmp_path / "s.db"
    ) as store:  # another process (a collect after an import) sees the stored spelling
        store.add_articles(
            [
                Article(id="c", title="C", text="Third text.", outlet="www.daily planet"),
                Article(id="d", title="D", text="Fourth text.", outlet="Harbor  Ledger"),
            ]
        )
        assert store.outlet_names() == ["Daily Planet", "Harbor Ledger"]
        assert store.get_article("b").metadata["outlet_original"] == " daily  PLANET "
        assert "outlet_original" not in store.get_article("a").metadata
