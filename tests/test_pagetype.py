"""Article detection: home, listing, video and shop pages are told from articles, and why is
said."""

from __future__ import annotations

import pytest
from conftest import CORPUS

from newsclf.article import Article
from newsclf.collect.extract import NotAnArticle, extract

PROSE = (
    "<p>"
    + " ".join(
        ["The council met on Tuesday and voted on the harbour plan after a long debate."] * 12
    )
    + "</p>"
)
LINKS = "".join(
    f'<li><a href="/news/story-{i}">Story number {i} about the harbour and the council'
    " vote</a></li>"
    for i in range(40)
)


def page(body: str, head: str = "") -> str:
    return f"<html><head><title>T</title>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    "url, html, reason",
    [
        ("https://news.example/", page(f"<main>{PROSE}</main>"), "a site's home page"),
        ("https://news.example/index.html", page(f"<main>{PROSE}</main>"), "a site's home page"),
        (
            "https://news.example/tag/harbour/",
            page(f"<main>{PROSE}</main>"),
            "a listing, media or shop page by its URL",
        ),
        ("https://news.example/search?q=harbour", page(f"<main>{PROSE}</main>"), "by its URL"),
        (
            "https://news.example/harbour-tv",
            page(f"<main>{PROSE}</main>", '<meta property="og:type" content="video.other">'),
            "og:type 'video.other'",
        ),
        (
            "https://news.example/latest",
            page(f"<main><ul>{LINKS}</ul>{PROSE[:400]}</p></main>"),
            "of its text is links",
        ),
    ],
)
def test_pages_that_show_they_are_not_articles_are_refused_with_why(url, html, reason):
    with pytest.raises(NotAnArticle) as info:
        extract(html, url)
    assert reason in info.value.reason
    kept = extract(html, url, keep_non_articles=True)  # --keep-non-articles: stored, and marked
    assert reason in kept.metadata["not_article"]


def test_a_crawled_page_needs_an_articles_marks_a_fed_page_does_not():
    bare = page(f"<main>{PROSE}</main>")
    assert extract(
        bare, "https://news.example/harbour-plan"
    ).text  # from a feed: an article by where it came from
    with pytest.raises(NotAnArticle, match="no publication date, no byline"):
        extract(bare, "https://news.example/harbour-plan", require_article_marks=True)
    dated = page(
        '<main><p class="byline">By Ana Putri</p><time datetime="2023-05-02">2 May'
        f" 2023</time>{PROSE}</main>",
        '<meta property="article:published_time" content="2023-05-02T08:00:00+00:00">'
        '<meta name="author" content="Ana Putri">',
    )
    assert extract(dated, "https://news.example/harbour-plan", require_article_marks=True).published
    declared = page(
        f"<main>{PROSE}</main>",
        '<script type="application/ld+json">{"@type": "NewsArticle"}</script>',
    )
    assert extract(
        declared, "https://news.example/", require_article_marks=True
    ).text  # it says it is one


def test_every_demo_site_article_page_is_an_article_even_as_a_crawl():
    articles = [
        Article.from_json(line)
        for line in (CORPUS / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    refused = []
    for a in articles:
        path = CORPUS / "site" / a.metadata["path"]
        try:
            extract(path.read_bytes(), a.url, require_article_marks=True)
        except NotAnArticle as exc:
            refused.append((a.url, exc.reason))
    assert refused == []
    with pytest.raises(NotAnArticle):
        extract(
            (CORPUS / "site" / "index.html").read_bytes(),
            "https://demo.example/index.html",
            require_article_marks=True,
        )


@pytest.mark.parametrize(
    "body",
    [
        f"<main>{PROSE}<ul>{LINKS}</ul></main>",
        "x<p>a<!--c-->tail<a>l<b>m</b>n<a>o</a>p</a>q<script>s t</script>t<?pi x?>u v</p>w",
        "<a>1<script>var s = 'in a link';</script>2</a><style>p { }</style>end<!--c-->",
        "",
    ],
)
def test_link_density_counts_the_text_nodes_of_its_xpath_definition(body):
    """One walk gives what the XPaths gave: script and style text out, nested links once."""
    from lxml import html as lxml_html

    from newsclf.collect.pagetype import link_density

    tree = lxml_html.document_fromstring(page(body), parser=lxml_html.HTMLParser())
    found = tree.find(".//body")
    total = "".join(found.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]"))
    linked = "".join(found.xpath(".//a[not(ancestor::a)]//text()"))
    expected = min(1.0, len(linked.split()) / len(total.split())) if total.split() else 0.0
    assert link_density(tree) == expected
