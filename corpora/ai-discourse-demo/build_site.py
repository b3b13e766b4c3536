"""Build the demo corpus from source/*.jsonl: a static news site (HTML pages, RSS feeds, OPML,
robots.txt),
clean article records, and two coders' labels plus a reviewer's adjudications.

A source row: {"slug", "outlet", "lang", "published", "author", "title", "pages": [[paragraph, ...],
...],
"about_ai"?: {"gold": "no", "coder_b": "yes"}, "topics"?: {"gold": [...], "coder_a"?: [...]},
"stance"?: [{"target", "gold", "coder_a"?, "coder_b"?}]}. "about_ai" is the relevance gate (absent:
"yes"
for everyone); topics and stance are needed only where someone answers "yes", and a coder's own
value
overrides the gold one.

Run from the project root:  python corpora/ai-discourse-demo/build_site.py
The output is committed; tests check that it is current.
"""

from __future__ import annotations

import html
import json
import random
import shutil
import sys
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
from newsclf.article import Article  # noqa: E402

OUTLETS = {
    "harborledger": ("The Harbor Ledger", "en", "https://harborledger.example"),
    "northgate": ("Northgate Times", "en", "https://www.northgatetimes.example"),
    "circuitweekly": ("Circuit Weekly", "en", "https://circuitweekly.example"),
    "meridianwire": ("Meridian Wire", "en", "https://meridianwire.example"),
    "plainview": ("Plainview Post", "en", "https://plainviewpost.example"),
    "kabarnusa": ("Kabar Nusa", "id", "https://www.kabarnusa.example"),
    "wartadigital": ("Warta Digital", "id", "https://wartadigital.example"),
    "suaratekno": ("Suara Tekno", "id", "https://suaratekno.example"),
    "cakrawala": ("Harian Cakrawala", "id", "https://harian-cakrawala.example"),
}
# Outlets that publish machine-readable metadata; the others only print date and byline lines,
# as many Indonesian portals do, so the extractor must read those.
WITH_META = {"harborledger", "circuitweekly", "meridianwire", "kabarnusa", "suaratekno"}
HARI = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
BULAN = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]
ZONA = {7: "WIB", 8: "WITA", 9: "WIT"}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def load_source() -> list[dict]:
    rows = []
    for path in sorted((HERE / "source").glob("*.jsonl")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                row["_src"] = f"{path.name}:{lineno}"
                rows.append(row)
    rows.sort(key=lambda r: (r["published"], r["slug"]))
    return rows


def page_path(row: dict, page: int) -> str:
    """Site-relative path of page `page` (1-based) of an article."""
    dt = datetime.fromisoformat(row["published"])
    stem = f"{row['outlet']}/{dt:%Y/%m}/{row['slug']}"
    return f"{stem}.html" if page == 1 else f"{stem}-p{page}.html"


def canonical(row: dict) -> str:
    dt = datetime.fromisoformat(row["published"])
    return f"{OUTLETS[row['outlet']][2]}/{dt:%Y/%m}/{row['slug']}"


def date_line(row: dict) -> str:
    dt = datetime.fromisoformat(row["published"])
    if row["lang"] == "id":
        hours = int(dt.utcoffset().total_seconds() // 3600)
        zone = f" {ZONA[hours]}" if row["outlet"] in ("cakrawala", "suaratekno") else ""
        return f"{HARI[dt.weekday()]}, {dt.day} {BULAN[dt.month - 1]} {dt.year} {dt:%H:%M}{zone}"
    if row["outlet"] == "northgate":
        return f"Published {dt.day} {MONTHS[dt.month - 1]} {dt.year}, {dt:%H:%M}"
    hour = dt.hour % 12 or 12
    ampm = "a.m." if dt.hour < 12 else "p.m."
    return f"{MONTHS[dt.month - 1]} {dt.day}, {dt.year} {hour}:{dt:%M} {ampm}"


def byline(row: dict) -> str:
    if row["lang"] == "id":
        return (
            f"Reporter : {row['author']}"
            if row["outlet"] != "wartadigital"
            else f"Oleh {row['author']}"
        )
    return f"By {row['author']}"


def rel(from_path: str, to_path: str) -> str:
    """A relative link between two site paths, so the site works from any host and folder."""
    depth = from_path.count("/")
    return "../" * depth + to_path


def render_page(
    row: dict, page: int, rows_by_outlet: dict[str, list[dict]], rng: random.Random
) -> str:
    name, lang, base = OUTLETS[row["outlet"]]
    pages = row["pages"]
    total = len(pages)
    here = page_path(row, page)
    esc = html.escape
    related = [r for r in rows_by_outlet[row["outlet"]] if r["slug"] != row["slug"]]
    rng.shuffle(related)
    related = related[:3]
    head = [
        '<meta charset="utf-8">',
        f"<title>{esc(row['title'])} | {esc(name)}</title>",
        f'<link rel="canonical" href="{esc(canonical(row))}'
        + ("" if page == 1 else f"?page={page}")
        + '">',
    ]
    if page < total:
        head.append(f'<link rel="next" href="{rel(here, page_path(row, page + 1))}">')
    if page > 1:
        head.append(f'<link rel="prev" href="{rel(here, page_path(row, page - 1))}">')
    if row["outlet"] in WITH_META:
        head += [
            f'<meta property="og:title" content="{esc(row["title"])}">',
            f'<meta property="og:site_name" content="{esc(name)}">',
            f'<meta property="article:published_time" content="{row["published"]}">',
            f'<meta name="author" content="{esc(row["author"])}">',
        ]
        if row["outlet"] in ("harborledger", "suaratekno"):
            ld = {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": row["title"],
                "datePublished": row["published"],
                "author": {"@type": "Person", "name": row["author"]},
                "publisher": {"@type": "Organization", "name": name},
                "inLanguage": lang,
            }
            head.append(
                '<script type="application/ld+json">'
                + json.dumps(ld, ensure_ascii=False)
                + "</script>"
            )
    body_paras = []
    for i, para in enumerate(pages[page - 1]):
        if page > 1 and i == 0 and len(para) < 90 and not para.rstrip().endswith("."):
            body_paras.append(f"<h2>{esc(para)}</h2>")  # a sub-heading opening a continued story
        else:
            body_paras.append(f"<p>{esc(para)}</p>")
        if i == 1 and related:
            also = related[0]
            word = "Baca juga:" if lang == "id" else "Read also:"
            body_paras.append(
                f'<p class="inline-related"><strong>{word}</strong> '
                f'<a href="{rel(here, page_path(also, 1))}">{esc(also["title"])}</a></p>'
            )
    pager = ""
    if total > 1:
        if lang == "id":
            marker = f"{page} dari {total} halaman"
            nxt, prv = "Halaman berikutnya", "Halaman sebelumnya"
        else:
            marker = f"Page {page} of {total}"
            nxt, prv = "Next page", "Previous page"
        links = []
        if page > 1:
            links.append(f'<a class="prev" href="{rel(here, page_path(row, page - 1))}">{prv}</a>')
        for p in range(1, total + 1):
            links.append(
                f"<span>{p}</span>"
                if p == page
                else f'<a href="{rel(here, page_path(row, p))}">{p}</a>'
            )
        if page < total:
            links.append(
                f'<a class="next" rel="next" href="{rel(here, page_path(row, page + 1))}">{nxt}</a>'
            )
        pager = (
            f'<div class="pagination"><p class="page-marker">{marker}</p>{" ".join(links)}</div>'
        )
    comments = "Beri Komentar" if lang == "id" else f"Comments ({rng.randint(0, 40)})"
    related_title = "Berita Terkait" if lang == "id" else "Related stories"
    related_box = "".join(
        f'<li><a href="{rel(here, page_path(r, 1))}">{esc(r["title"])}</a></li>' for r in related
    )
    nav = " ".join(
        f'<a href="{rel(here, "index.html")}#{s}">{s.title()}</a>'
        for s in (
            ["Berita", "Teknologi", "Bisnis", "Hiburan"]
            if lang == "id"
            else ["News", "Technology", "Business", "Opinion"]
        )
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
{chr(10).join(head)}
</head>
<body>
<header class="site-header"><a class="logo" \
href="{rel(here, "index.html")}">{esc(name)}</a><nav>{nav}</nav></header>
<main>
<article class="story">
<h1 class="headline">{esc(row["title"])}</h1>
<div class="meta"><span class="byline">{esc(byline(row))}</span> <time \
class="date">{esc(date_line(row))}</time></div>
<div class="story-body">
{chr(10).join(body_paras)}
</div>
{pager}
<div class="share">{"Bagikan" if lang == "id" else "Share"}: <a href="#">Facebook</a> <a \
href="#">X</a> <a href="#">WhatsApp</a></div>
<p class="comments"><a href="#comments">{comments}</a></p>
</article>
<aside class="related"><h3>{related_title}</h3><ul>{related_box}</ul></aside>
</main>
<footer>&copy; 2023 {esc(name)}. \
{"Hak cipta dilindungi." if lang == "id" else "All rights reserved."} <a \
href="#">{"Redaksi" if lang == "id" else "About us"}</a></footer>
</body>
</html>
"""


def rss(rows: list[dict], title: str, link_prefix: str) -> str:
    items = []
    for row in sorted(rows, key=lambda r: r["published"], reverse=True):
        dt = datetime.fromisoformat(row["published"])
        first = row["pages"][0][0]
        items.append(f"""  <item>
    <title>{html.escape(row["title"])}</title>
    <link>{link_prefix}{page_path(row, 1)}</link>
    <guid isPermaLink="false">{html.escape(canonical(row))}</guid>
    <pubDate>{format_datetime(dt)}</pubDate>
    <description>{html.escape(first[:200])}</description>
  </item>""")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
  <title>{html.escape(title)}</title>
  <link>{link_prefix}index.html</link>
  <description>{html.escape(title)}</description>
{chr(10).join(items)}
</channel>
</rss>
"""


def article_record(row: dict) -> Article:
    name, lang, _ = OUTLETS[row["outlet"]]
    paragraphs = [p for page in row["pages"] for p in page]
    return Article(
        url=canonical(row),
        outlet=name,
        title=row["title"],
        authors=[row["author"]],
        published=row["published"],
        lang=lang,
        text="\n\n".join(paragraphs),
        pages=len(row["pages"]),
        metadata={"slug": row["slug"], "path": page_path(row, 1)},
    )


def coding_seconds(row: dict, coder: str, first: bool) -> float:
    """Simulated coding time (the demo has no real labelers): reading time plus deciding, per
    coder."""
    words = sum(len(p.split()) for page in row["pages"] for p in page)
    rng = random.Random(f"{row['slug']}/{coder}/{first}")
    pace = {"coder_a": 4.0, "coder_b": 3.2}.get(coder, 4.0)  # words read per second
    if gate_answer(row, coder) == "no":
        pace *= 2.5  # an off-topic article is skimmed, not read
    seconds = (words / pace + 12 + rng.uniform(-6, 18)) if first else (8 + rng.uniform(0, 10))
    return round(seconds, 1)


def gate_answer(row: dict, coder: str | None) -> str:
    """A coder's answer to the relevance gate about_ai (coder None: the gold); rows without
    "about_ai" are about AI."""
    gate = row.get("about_ai", {})
    return (gate.get(coder) if coder else None) or gate.get("gold", "yes")


def label_lines(row: dict, article_id: str, coder: str | None) -> list[dict]:
    """A coder's label lines for one article (coder None: the adjudicated gold); the gate goes on
    the first line.

    An article coded "no" at the gate gets one line and nothing else: the gate ends the item.
    """
    gate = gate_answer(row, coder)
    if gate == "no":
        return [{"id": article_id, "labels": {"about_ai": ["no"]}}]
    topics = row["topics"].get(coder) if coder else None
    topics = topics or row["topics"]["gold"]
    lines = []
    for i, entry in enumerate(row["stance"]):
        stance = (entry.get(coder) if coder else None) or entry["gold"]
        labels = {"stance": [stance]}
        if i == 0:
            labels = {"about_ai": [gate], "topics": topics, **labels}
        lines.append({"id": article_id, "target": entry["target"], "labels": labels})
    return lines


def main(out: Path = HERE) -> None:
    """Build everything into `out` (the corpus folder itself by default; tests build into a temp
    folder)."""
    site = out / "site"
    rows = load_source()
    seen = set()
    for row in rows:
        assert row["slug"] not in seen, f"duplicate slug {row['slug']} ({row['_src']})"
        seen.add(row["slug"])
        assert OUTLETS[row["outlet"]][1] == row["lang"], (
            f"{row['_src']}: language does not match the outlet"
        )
        if any(gate_answer(row, coder) == "yes" for coder in (None, "coder_a", "coder_b")):
            assert "topics" in row and "stance" in row, (
                f"{row['_src']}: coded about AI, so it needs topics and stance"
            )
    rng = random.Random(7)
    by_outlet: dict[str, list[dict]] = {}
    for row in rows:
        by_outlet.setdefault(row["outlet"], []).append(row)
    if site.exists():
        shutil.rmtree(site)
    for row in rows:
        for page in range(1, len(row["pages"]) + 1):
            path = site / page_path(row, page)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_page(row, page, by_outlet, rng), encoding="utf-8")
    listing = "\n".join(
        f'<li><a href="{page_path(r, 1)}">{html.escape(r["title"])}</a>'
        f" ({OUTLETS[r['outlet']][0]})</li>"
        for r in sorted(rows, key=lambda r: r["published"], reverse=True)
    )
    (site / "index.html").write_text(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>AI discourse demo'
        " site</title></head><body><h1>AI discourse demo"
        f" site</h1><ul>\n{listing}\n</ul></body></html>\n",
        encoding="utf-8",
    )
    (site / "robots.txt").write_text(
        "User-agent: *\nDisallow: /private/\nAllow: /\n", encoding="utf-8"
    )
    (site / "feed.xml").write_text(
        rss(rows, "AI discourse demo: all outlets", ""), encoding="utf-8"
    )
    outlines = []
    for key, outlet_rows in sorted(by_outlet.items()):
        (site / key / "feed.xml").write_text(
            rss(outlet_rows, OUTLETS[key][0], "../"), encoding="utf-8"
        )
        outlines.append(
            f'    <outline type="rss" text="{OUTLETS[key][0]}" xmlUrl="{key}/feed.xml"/>'
        )
    (site / "feeds.opml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">\n  <head><title>Demo'
        " outlets</title></head>\n  <body>\n" + "\n".join(outlines) + "\n  </body>\n</opml>\n",
        encoding="utf-8",
    )
    articles = [article_record(row) for row in rows]
    with open(out / "articles.jsonl", "w", encoding="utf-8") as fh:
        for article in articles:
            fh.write(article.to_json() + "\n")
    labels_dir = out / "labels"
    labels_dir.mkdir(exist_ok=True)
    for coder in ("coder_a", "coder_b"):
        with open(labels_dir / f"{coder}.jsonl", "w", encoding="utf-8") as fh:
            for row, article in zip(rows, articles):
                for i, line in enumerate(label_lines(row, article.id, coder)):
                    line = {**line, "labeler": coder, "seconds": coding_seconds(row, coder, i == 0)}
                    fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    # The reviewer adjudicates only the items where the coders disagree, as a review queue would.
    with open(labels_dir / "adjudicated.jsonl", "w", encoding="utf-8") as fh:
        for row, article in zip(rows, articles):
            a, b = label_lines(row, article.id, "coder_a"), label_lines(row, article.id, "coder_b")
            if a != b:
                for line in label_lines(row, article.id, None):
                    fh.write(
                        json.dumps(
                            {**line, "labeler": "reviewer", "gold": True}, ensure_ascii=False
                        )
                        + "\n"
                    )
    pages = sum(len(r["pages"]) for r in rows)
    off_topic = sum(gate_answer(r, None) == "no" for r in rows)
    print(
        f"built {len(rows)} articles ({pages} pages, {off_topic} not about AI) from"
        f" {len(by_outlet)} outlets into {site}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
