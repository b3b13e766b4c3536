"""The collector: URLs, feeds, sitemaps or saved pages -> fetched, extracted, stitched Articles in
the store.

A feed entry is marked as seen only after its article is stored, and a feed's body hash only
after all its entries are handled, so a killed run loses nothing and a rerun repeats nothing
that finished.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from newsclf.article import Article, canonicalize_url
from newsclf.collect.dedup import duplicate_groups
from newsclf.collect.extract import ExtractionError, NotAnArticle, decode_html, extract
from newsclf.collect.feeds import FeedError, parse_feed, parse_feed_list, parse_sitemap
from newsclf.collect.fetch import Fetcher, FetchResult
from newsclf.collect.pages import collect_pages, detect_pagination, stitch
from newsclf.errors import InputError
from newsclf.store import Store, now_iso

MAX_SITEMAP_DEPTH = 3


@dataclass
class CollectSummary:
    """What a collect run did, for the closing line and the exit code."""

    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    already_seen: int = 0
    not_modified: int = 0
    refused_by_robots: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    not_articles: list[tuple[str, str]] = field(
        default_factory=list
    )  # (url, why it is not an article)
    warnings: list[str] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line a cron log can keep."""
        return (
            f"fetched {self.fetched}, new {self.new}, updated {self.updated}, unchanged"
            f" {self.unchanged}, duplicates {self.duplicates}, already seen {self.already_seen},"
            f" feeds not modified {self.not_modified}, refused by robots {self.refused_by_robots},"
            f" not articles {len(self.not_articles)}, failed {len(self.failed)}"
        )


class Collector:
    """Fetches politely through one Fetcher, extracts and stitches, and stores into one Store."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher | None = None,
        warc: Any = None,
        on_progress: Callable[[str], None] | None = None,
        follow_pages: bool = True,
        keep_non_articles: bool = False,
    ):
        self.store = store
        self.keep_non_articles = (
            keep_non_articles  # store home/listing/shop pages too (marked in metadata)
        )
        self.fetcher = fetcher or Fetcher()
        self.warc = warc
        self.on_progress = on_progress or (lambda _: None)
        self.follow_pages = follow_pages
        self.summary = CollectSummary()

    # --- one page / article -------------------------------------------------------------------

    def _fetch(self, url: str, **kw: Any) -> FetchResult:
        result = self.fetcher.fetch(url, **kw)
        if self.warc is not None and result.status:
            self.warc.write(result)
        if result.status and not result.error:
            self.summary.fetched += 1
        return result

    def _fail(self, url: str, result: FetchResult) -> None:
        if result.from_robots_block:
            self.summary.refused_by_robots += 1
        else:
            self.summary.failed.append((url, result.error or f"HTTP {result.status}"))

    def collect_url(self, url: str) -> Article | None:
        """Fetch one article URL (following its pages), store it; None when it failed."""
        result = self._fetch(url)
        if result.error or result.text is None:
            self._fail(url, result)
            return None
        fetched_at = now_iso()

        def get(page_url: str) -> str | None:
            page = self._fetch(page_url)
            if page.error or page.text is None:
                self.summary.warnings.append(f"{url}: page {page_url} not fetched ({page.error})")
                return None
            return page.text

        return self._store_pages(url, result.final_url, result.text, get, fetched_at)

    def _store_pages(
        self,
        url: str,
        final_url: str,
        html: str,
        get: Callable[[str], str | None],
        fetched_at: str | None,
    ) -> Article | None:
        try:
            pagination = detect_pagination(html, final_url)
            if self.follow_pages and (pagination.next_url or len(pagination.page_urls) > 0):
                pages = collect_pages(html, final_url, get)
                articles = [
                    extract(
                        page_html,
                        page_url,
                        fetched_at=fetched_at,
                        keep_non_articles=self.keep_non_articles,
                    )
                    for page_url, page_html in pages
                ]
                article = stitch(articles)
                if pagination.total and article.pages < pagination.total:
                    self.summary.warnings.append(
                        f"{url}: stitched {article.pages} of {pagination.total} pages"
                    )
            else:
                article = extract(
                    html, final_url, fetched_at=fetched_at, keep_non_articles=self.keep_non_articles
                )
        except (
            NotAnArticle
        ) as exc:  # a home, listing or shop page a feed pointed at: counted, not a failure
            self.summary.not_articles.append((url, exc.reason))
            return None
        except ExtractionError as exc:
            # The summary line names the page already; a later page of a stitched article keeps its
            # own URL.
            self.summary.failed.append(
                (url, exc.reason if exc.url in (url, final_url) else str(exc))
            )
            return None
        self._save(article)
        return article

    def _save(self, article: Article) -> None:
        if any(other != article.id for other in self.store.find_by_hash(article.content_hash)):
            self.summary.duplicates += 1
        outcome = self.store.add_article(article)
        setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)
        self.summary.article_ids.append(article.id)
        self.on_progress(article.id)

    def collect_urls(self, urls: Iterable[str]) -> CollectSummary:
        """Collect each URL in turn (pacing is per host inside the fetcher)."""
        for url in urls:
            self.collect_url(url)
        return self.summary

    # --- feeds and sitemaps -------------------------------------------------------------------

    def _collect_entries(self, source: str, entries: list[Any]) -> None:
        seen = self.store.seen_entries(source)
        for entry in entries:
            if entry.key in seen:
                self.summary.already_seen += 1
                continue
            candidates = [entry.url, canonicalize_url(entry.url)]
            # a guid that is the article's permalink
            if entry.key.startswith(("http://", "https://")):
                candidates.append(canonicalize_url(entry.key))
            known = self.store.article_id_for_url(*candidates)
            if known is not None:  # another feed or an earlier run already brought it in
                self.summary.already_seen += 1
                self.store.mark_entry(source, entry.key, known)
                continue
            article = self.collect_url(entry.url)
            if article is not None:
                self.store.mark_entry(source, entry.key, article.id)

    def collect_feed(self, feed_url: str) -> None:
        """Poll one feed with a conditional GET and collect its entries not seen before."""
        state = self.store.feed_state(feed_url)
        result = self._fetch(
            feed_url,
            etag=state.get("etag"),
            last_modified=state.get("last_modified"),
            accept="feed",
        )
        if result.not_modified:
            self.summary.not_modified += 1
            self.store.set_feed_state(feed_url, last_status=304, last_error=None)
            return
        if result.error:
            self._fail(feed_url, result)
            self.store.set_feed_state(feed_url, last_status=result.status, last_error=result.error)
            return
        body_hash = hashlib.sha256(result.body).hexdigest()
        validators = {
            "etag": result.headers.get("ETag") or result.headers.get("etag"),
            "last_modified": (
                result.headers.get("Last-Modified") or result.headers.get("last-modified")
            ),
        }
        if body_hash == state.get("body_hash"):
            # Some servers send a fresh ETag for an unchanged body; the hash catches that.
            self.summary.not_modified += 1
            self.store.set_feed_state(
                feed_url, last_status=result.status, last_error=None, **validators
            )
            return
        try:
            parsed = parse_feed(result.body, result.final_url, result.content_type)
        except FeedError as exc:
            self.summary.failed.append((feed_url, str(exc)))
            self.store.set_feed_state(feed_url, last_status=result.status, last_error=str(exc))
            return
        self.summary.warnings += parsed.warnings
        self._collect_entries(feed_url, parsed.entries)
        self.store.set_feed_state(
            feed_url, body_hash=body_hash, last_status=result.status, last_error=None, **validators
        )

    def feed_urls(self, feeds: str) -> list[str]:
        """Feed URLs from a local file or a URL (a plain list or OPML)."""
        if urlsplit(feeds).scheme in ("http", "https"):
            result = self._fetch(feeds, accept="feed")
            if result.error:
                raise InputError(f"{feeds}: could not read the feed list ({result.error})")
            return parse_feed_list(result.body, result.final_url)
        path = Path(feeds)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{feeds}: cannot read the feed list ({exc.strerror})") from None
        return parse_feed_list(body, "")

    def collect_feeds(self, feeds: str) -> CollectSummary:
        """Poll every feed a feed list names."""
        for url in self.feed_urls(feeds):
            self.collect_feed(url)
        return self.summary

    def collect_sitemap(self, url: str, depth: int = 0) -> CollectSummary:
        """Collect the URLs a sitemap (or sitemap index, or Google News sitemap) lists."""
        result = self._fetch(url, accept="feed")
        if result.error:
            self._fail(url, result)
            return self.summary
        try:
            parsed = parse_sitemap(result.body, result.final_url)
        except FeedError as exc:
            self.summary.failed.append((url, str(exc)))
            return self.summary
        for child in parsed.sitemaps:
            if depth < MAX_SITEMAP_DEPTH:
                self.collect_sitemap(child, depth + 1)
            else:
                self.summary.warnings.append(
                    f"{child}: sitemap nested deeper than {MAX_SITEMAP_DEPTH}; not read"
                )
        self._collect_entries(url, parsed.entries)
        return self.summary

    # --- saved pages --------------------------------------------------------------------------

    def collect_html_dir(self, directory: str | Path) -> CollectSummary:
        """Extract saved HTML pages; pages 2..N of an article are stitched onto page 1, not stored
        alone."""
        root = Path(directory).resolve()
        files = sorted(
            p for p in root.rglob("*") if p.suffix.lower() in (".html", ".htm") and p.is_file()
        )

        def get(page_url: str) -> str | None:
            path = Path(urlsplit(page_url).path)
            if not path.is_file() or root not in path.resolve().parents:
                return None
            return _read_html(path)

        for path in files:
            html = _read_html(path)
            file_url = path.as_uri()
            pagination = detect_pagination(html, file_url)
            if pagination.current and pagination.current > 1:
                continue  # a later page: stitched when its first page is read
            if _is_listing(html):
                continue
            self._store_pages(file_url, file_url, html, get, None)
        return self.summary

    def regroup_duplicates(self) -> int:
        """Recompute near-duplicate groups over the whole store; returns how many articles are
        copies."""
        groups = duplicate_groups(self.store.iter_articles())
        self.store.set_dup_groups(groups)
        return sum(1 for article_id, head in groups.items() if article_id != head)


def _read_html(path: Path) -> str:
    return decode_html(path.read_bytes())[0]


def _is_listing(html: str) -> bool:
    # An index page lists many articles and has no article body; extraction would only find link
    # text.
    return html.count("<article") == 0 and html.count("<li") > 20 and html.count("<p") < 3
