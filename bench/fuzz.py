"""Fuzzing every parser that reads untrusted input: each input must parse or fail with newsclf's own
error.

    python -m bench.fuzz [--examples 10000] [--only guide,jsonl,...]

Prints one table: inputs tried per parser, how many parsed, how many were refused with newsclf's
own error, and how many raised anything else (must be 0). Inputs are hypothesis-generated: random
text and bytes, and byte-level mutations (cuts, insertions, flips, duplications) of valid seeds
written for this purpose. tests/test_fuzz.py runs the same targets with a few hundred inputs each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsclf.errors import NewsclfError

ROOT = Path(__file__).resolve().parents[1]

GUIDE_SEED = (ROOT / "label_guides" / "ai-discourse.yaml").read_bytes()
JSONL_SEED = (
    b'{"id": "a1", "title": "Upah pelabel", "text": "Pekerja dibayar murah.", "lang": "id", '
    b'"published": "2023-05-12T07:45:00+07:00", "target": "OpenAI", '
    b'"labels": {"topics": ["labor"], "stance": ["against"]}}\n'
    b'{"id": "a2", "labels": {"topics": ["safety"]}}\n{"text": "only text"}\n'
)
CSV_SEED = (
    b"id,title,text,lang,authors,labels.topics,labels.stance\n"
    b'c1,Judul,"Teks, dengan koma\nbaris baru",id,Rina; Budi,labor;safety,against\n'
)
RSS_SEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss'
    b' version="2.0"><channel><title>T</title><item><title>One</title><link>/a/1.html</link>'
    b"<guid>g1</guid><pubDate>Fri,"
    b" 12 May 2023 07:45:00 +0700</pubDate></item><item><title>Two &amp;"
    b" more</title><link>https://x.example/2?utm_source=a</link></item></channel></rss>"
)
SITEMAP_SEED = (
    b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://n.example/a</loc>'
    b"<news:news><news:publication_date>2023-05-12</news:publication_date><news:title>A</news:title>"
    b"</news:news></url></urlset>"
)
OPML_SEED = (
    b'<?xml version="1.0"?><opml version="2.0"><body><outline type="rss" text="A"'
    b' xmlUrl="a/feed.xml"/></body></opml>'
)
HTML_SEED = (
    '<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"><title>Judul Berita |'
    ' Portal</title><link rel="canonical" href="https://portal.example/2023/05/judul"><link'
    ' rel="next" href="judul-p2.html"></head><body><nav><a'
    ' href="/">Beranda</a></nav><article><h1>Judul Berita</h1><div class="meta">Reporter : Rina'
    " Mahendra <time>Jumat, 12 Mei 2023 07:45 WIB</time></div><p>Para anotator data di Bandung"
    " mengaku menerima upah per tugas yang jauh dari layak bulan ini.</p><p><strong>Baca"
    ' juga:</strong> <a href="/x">Berita lain</a></p><p>Perusahaan alih daya itu menolak'
    ' berkomentar ketika dihubungi pada Kamis malam.</p><div class="pagination"><p>1 dari 3'
    ' halaman</p><a rel="next" href="judul-p2.html">Halaman berikutnya</a><a'
    ' href="?page=3">3</a></div></article><p><a href="#c">Beri Komentar</a></p></body></html>'
).encode()
DATE_SEEDS = [
    "Jumat, 12 Mei 2023 07:45 WIB",
    "12/05/2023 07:45 WITA",
    "May 12, 2023 7:45 a.m. ET",
    "Published 12 May 2023, 07:45",
    "2 jam yang lalu",
    "kemarin",
    "3 hours ago",
    "2023-05-12T07:45:00+07:00",
    "Fri, 12 May 2023 07:45:00 +0700",
    "12 Agu 2023",
]


@st.composite
def mutated(draw: Any, seed: bytes) -> bytes:
    """A seed with a few random byte-level edits."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["cut", "insert", "flip", "dup", "truncate"]))
        pos = draw(st.integers(0, max(0, len(data))))
        if op == "cut" and data:
            end = draw(st.integers(pos, min(len(data), pos + 40)))
            del data[pos:end]
        elif op == "insert":
            data[pos:pos] = draw(
                st.binary(max_size=12)
                | st.sampled_from(
                    [
                        b"<",
                        b">",
                        b'"',
                        b"\n",
                        b"\x00",
                        b"&#0;",
                        b"\xff\xfe",
                        b"{",
                        b"}",
                        b":",
                        b"- ",
                        b"  ",
                        b"\t",
                    ]
                )
            )
        elif op == "flip" and data:
            i = min(pos, len(data) - 1)
            data[i] = draw(st.integers(0, 255))
        elif op == "dup" and data:
            end = draw(st.integers(pos, min(len(data), pos + 80)))
            data[pos:pos] = data[pos:end] * draw(st.integers(1, 4))
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


def inputs(seed: bytes) -> st.SearchStrategy[bytes]:
    """Mutations of a seed, or random bytes, or random text."""
    return st.one_of(
        mutated(seed),
        mutated(seed),
        st.binary(max_size=400),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )


# --- targets: each takes bytes and returns normally or raises NewsclfError
# -----------------------------


def target_guide(data: bytes) -> None:
    from newsclf.guide import parse_guide

    parse_guide(data.decode("utf-8", "replace"), "fuzz.yaml")


def _read_file(data: bytes, suffix: str) -> None:
    from newsclf.guide import load_guide
    from newsclf.records import read_records

    guide = _GUIDE.get("g") or _GUIDE.setdefault(
        "g", load_guide(ROOT / "label_guides" / "ai-discourse.yaml")
    )
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=True) as fh:
        fh.write(data)
        fh.flush()
        for result in read_records(fh.name, guide):
            assert (result.record is None) != (result.error is None)


_GUIDE: dict[str, Any] = {}


def target_jsonl(data: bytes) -> None:
    _read_file(data, ".jsonl")


def target_csv(data: bytes) -> None:
    _read_file(data, ".csv")


def target_feed(data: bytes) -> None:
    from newsclf.collect.feeds import parse_feed

    parse_feed(data, "https://fuzz.example/feed.xml")


def target_sitemap(data: bytes) -> None:
    from newsclf.collect.feeds import parse_sitemap

    parse_sitemap(data, "https://fuzz.example/sitemap.xml")


def target_feed_list(data: bytes) -> None:
    from newsclf.collect.feeds import parse_feed_list

    parse_feed_list(data, "https://fuzz.example/feeds.opml")


def target_extract(data: bytes) -> None:
    from newsclf.collect.extract import extract

    extract(data, "https://portal.example/2023/05/judul")


def target_pagination(data: bytes) -> None:
    from newsclf.collect.pages import detect_pagination

    detect_pagination(data.decode("utf-8", "replace"), "https://portal.example/2023/05/judul")


def target_date(data: bytes) -> None:
    from newsclf.collect.dates import parse_date

    parse_date(data.decode("utf-8", "replace"))


TARGETS: dict[str, tuple[Callable[[bytes], None], st.SearchStrategy[bytes]]] = {
    "guide": (target_guide, inputs(GUIDE_SEED)),
    "jsonl": (target_jsonl, inputs(JSONL_SEED)),
    "csv": (target_csv, inputs(CSV_SEED)),
    "feed": (target_feed, inputs(RSS_SEED)),
    "sitemap": (target_sitemap, inputs(SITEMAP_SEED)),
    "feed-list": (target_feed_list, inputs(OPML_SEED)),
    "extract": (target_extract, inputs(HTML_SEED)),
    "pagination": (target_pagination, inputs(HTML_SEED)),
    "date": (
        target_date,
        st.one_of(
            st.sampled_from(DATE_SEEDS).map(str.encode).flatmap(mutated),
            st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
        ),
    ),
}


@dataclass
class Tally:
    """What one parser did with its inputs."""

    tried: int = 0
    parsed: int = 0
    refused: int = 0
    escaped: list[str] = field(default_factory=list)


def run_target(name: str, examples: int, seed: int = 0) -> Tally:
    """Feed `examples` generated inputs to one target and count the outcomes (never raises)."""
    func, strategy = TARGETS[name]
    tally = Tally()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def probe(data: bytes) -> None:
        tally.tried += 1
        try:
            func(data)
            tally.parsed += 1
        except NewsclfError:
            tally.refused += 1
        except Exception as exc:  # the finding: anything but our own error escaped
            tally.escaped.append(
                f"{type(exc).__name__}: {exc} <- {data[:120]!r}\n{traceback.format_exc(limit=3)}"
            )

    probe()
    return tally


def main(argv: list[str] | None = None) -> int:
    """Run the fuzz table; exit 1 if any parser let a foreign exception escape."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--examples", type=int, default=10_000, help="inputs per parser (default 10000)"
    )
    parser.add_argument("--only", help="comma-separated parser names: " + ", ".join(TARGETS))
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(TARGETS)
    print(f"{'parser':<12}{'inputs':>8}{'parsed':>8}{'refused':>9}{'escaped':>9}{'seconds':>9}")
    failed = False
    for name in names:
        start = time.perf_counter()
        tally = run_target(name, args.examples)
        print(
            f"{name:<12}{tally.tried:>8}{tally.parsed:>8}{tally.refused:>9}{len(tally.escaped):>9}"
            f"{time.perf_counter() - start:>9.1f}",
            flush=True,
        )
        for finding in tally.escaped[:3]:
            print("   " + finding.replace("\n", "\n   "), file=sys.stderr)
        failed |= bool(tally.escaped)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
