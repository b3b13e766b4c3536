"""`newsclf collect` end to end against the demo site served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json

from conftest import CORPUS

from newsclf.collect.warc import iter_warc
from newsclf.store import Store

GOLD = {
    json.loads(line)["id"]: json.loads(line)
    for line in (CORPUS / "articles.jsonl").read_text().splitlines()
}


def token_f1(a: str, b: str) -> float:
    from collections import Counter

    ta, tb = Counter(a.lower().split()), Counter(b.lower().split())
    common = sum((ta & tb).values())
    return 2 * common / (sum(ta.values()) + sum(tb.values())) if common else 0.0


def test_collect_feeds_brings_every_demo_article_once_stitched_and_rerun_fetches_nothing_new(
    local_server, run, tmp_path
):
    local_server.serve_dir("/", CORPUS / "site")
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(
        f"# the demo site's own feed\n{local_server.url('/feed.xml')}\n", encoding="utf-8"
    )
    result = run(
        "collect", "--feeds", str(feeds), "--min-interval", "0", "--warc", str(tmp_path / "warc")
    )
    assert result.exit_code == 0, result.output
    assert "new 149," in result.output and "failed 0" in result.output
    with Store(tmp_path / "newsclf.db") as store:
        got = {a.id: a for a in store.iter_articles()}
    assert set(got) == set(GOLD)  # ids come from canonical URLs, so they match the corpus records
    multi = [i for i, g in GOLD.items() if g["pages"] > 1]
    assert len(multi) >= 10
    for article_id, gold in GOLD.items():
        article = got[article_id]
        assert article.pages == gold["pages"], gold["metadata"]["path"]
        assert article.title == gold["title"] and article.authors == gold["authors"]
        assert article.published[:16] == gold["published"][:16]
        assert token_f1(article.text, gold["text"]) >= 0.95, (
            gold["metadata"]["path"],
            token_f1(article.text, gold["text"]),
        )
    pages = sum(g["pages"] for g in GOLD.values())
    served = [path for _, method, path, _ in local_server.log if path.endswith(".html")]
    assert len(served) == pages  # every page fetched exactly once
    records = list(iter_warc(next((tmp_path / "warc").glob("*.warc.gz"))))
    assert len(records) == pages
    # Second run: the feed is unchanged (304 or same body), nothing is fetched again.
    local_server.clear_log()
    again = run("collect", "--feeds", str(feeds), "--min-interval", "0")
    assert again.exit_code == 0, again.output
    assert "new 0," in again.output and "feeds not modified 1" in again.output
    assert [p for _, _, p, _ in local_server.log if p.endswith(".html")] == []


def test_collect_opml_dedups_entries_across_feeds(local_server, run, tmp_path):
    local_server.serve_dir("/", CORPUS / "site")
    result = run("collect", "--feeds", local_server.url("/feeds.opml"), "--min-interval", "0")
    assert result.exit_code == 0, result.output
    assert "new 149," in result.output
    # The site-wide feed lists the same articles: all already seen, none fetched.
    local_server.clear_log()
    feeds = tmp_path / "f.txt"
    feeds.write_text(local_server.url("/feed.xml") + "\n")
    again = run("collect", "--feeds", str(feeds), "--min-interval", "0")
    assert "new 0," in again.output and "already seen 149" in again.output


def test_collect_a_broken_feed_over_http_still_brings_in_its_entries(local_server, run, tmp_path):
    # A real-world breakage: a bare '&' in a title (not well-formed XML) and the closing tags cut
    # off.
    local_server.serve_dir("/", CORPUS / "site")
    feed = (CORPUS / "site" / "kabarnusa" / "feed.xml").read_text(encoding="utf-8")
    entries = feed.count("<item>")
    broken = (
        feed.replace("<title>", "<title>AI & ", 2).replace("</channel>", "").replace("</rss>", "")
    )
    local_server.route(
        "/kabarnusa/broken.xml",
        lambda req: (200, {"Content-Type": "application/rss+xml; charset=utf-8"}, broken.encode()),
    )
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(local_server.url("/kabarnusa/broken.xml") + "\n", encoding="utf-8")
    result = run("collect", "--feeds", str(feeds), "--min-interval", "0")
    assert result.exit_code == 0, result.output  # a warning, not a failure: every entry was read
    assert "broken.xml: the feed is malformed" in result.output
    assert f"new {entries}," in result.output and "failed 0" in result.output
    with Store(tmp_path / "newsclf.db") as store:
        assert {a.outlet for a in store.iter_articles()} == {"Kabar Nusa"}
        assert sum(1 for _ in store.iter_articles()) == entries == 21


def test_collect_html_dir_and_single_urls(local_server, run, tmp_path):
    result = run("collect", "--html", str(CORPUS / "site"))
    assert result.exit_code == 0 and "new 149," in result.output
    local_server.serve_dir("/", CORPUS / "site")
    slug = next(g for g in GOLD.values() if g["pages"] == 3)["metadata"]["path"]
    one = run(
        "collect", local_server.url("/" + slug), "--min-interval", "0", db=str(tmp_path / "one.db")
    )
    assert one.exit_code == 0 and "new 1," in one.output
    with Store(tmp_path / "one.db") as store:
        [article] = list(store.iter_articles())
        assert article.pages == 3


def test_collect_reports_failures_and_robots(local_server, run, tmp_path):
    local_server.serve_dir("/", CORPUS / "site")
    local_server.route(
        "/private/secret.html", lambda req: (200, {"Content-Type": "text/html"}, "<p>no</p>")
    )
    result = run(
        "collect",
        local_server.url("/missing.html"),
        local_server.url("/private/secret.html"),
        "--min-interval",
        "0",
    )
    assert result.exit_code == 1
    assert "refused by robots 1" in result.output and "failed 1" in result.output
    assert "missing.html: HTTP 404" in result.output
    html_as_feed = tmp_path / "f.txt"
    html_as_feed.write_text(local_server.url("/index.html") + "\n")
    bad = run("collect", "--feeds", str(html_as_feed), "--min-interval", "0")
    assert bad.exit_code == 1 and "is an HTML page, not a feed" in bad.output
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "menu.html").write_text(
        "<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8"
    )
    empty = run("collect", "--html", str(saved), db=str(tmp_path / "saved.db"))
    # The failure line names the page once, then why: no article text.
    [line] = [x for x in empty.output.splitlines() if x.startswith("failed: ")]
    assert (
        empty.exit_code == 1
        and line.count("menu.html") == 1
        and line.endswith("characters of body text)")
    ), line
