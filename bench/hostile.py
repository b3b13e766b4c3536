"""Hostile inputs (issue #35): peak memory and time of the real commands on files built to exhaust
them.

    python -m bench.hostile [--gib 2] [--only line,gz,array,warc,page]

Each case is generated into a temporary folder at run time (never committed) and run in a child
process, whose peak RSS comes from os.wait4 (that child and what it waited for). The anchor row
is the same command on a small ordinary file in the same run, so the ratio is the hostile
input's extra cost. Limits to meet: under 500 MB peak RSS for each file; under 2 s for the page.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "ai-discourse-demo"
GOOD = [
    {
        "id": f"g{i}",
        "title": "Raters paid little",
        "text": "Workers who rate chatbot answers earn little.",
    }
    for i in range(2)
]
MIB = 1 << 20


def gz_member(data: bytes) -> bytes:
    """One gzip member; members concatenate into one stream (so a huge run costs one small member,
    repeated)."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def repeated(
    prefix: bytes, fill: bytes, mib: int, suffix: bytes, gz: bool
) -> Callable[[Path], None]:
    """A writer of prefix + `mib` MiB of `fill` + suffix, plain or as gzip members."""

    def write(path: Path) -> None:
        block = fill * (MIB // len(fill))
        with open(path, "wb") as fh:
            if gz:
                member = gz_member(block)
                fh.write(gz_member(prefix))
                for _ in range(mib):
                    fh.write(member)
                fh.write(gz_member(suffix))
            else:
                fh.write(prefix)
                for _ in range(mib):
                    fh.write(block)
                fh.write(suffix)

    return write


def jsonl_line(mib: int, gz: bool) -> Callable[[Path], None]:
    good = "".join(json.dumps(r) + "\n" for r in GOOD).encode()
    return repeated(
        good[: good.index(b"\n") + 1] + b'{"id": "big", "text": "',
        b"x",
        mib,
        b'"}\n' + good[good.index(b"\n") + 1 :],
        gz,
    )


def json_array(mib: int) -> Callable[[Path], None]:
    return repeated(
        b"[" + json.dumps(GOOD[0]).encode() + b',\n{"id": "big", "text": "',
        b"x",
        mib,
        b'"},\n' + json.dumps(GOOD[1]).encode() + b"]\n",
        True,
    )


def warc_body(mib: int) -> Callable[[Path], None]:
    """A .warc.gz: a demo page, a response whose body is `mib` MiB (gzip members of one record), a
    demo page."""

    def write(path: Path) -> None:
        from newsclf.batch.inputs import write_warc

        first = json.loads((CORPUS / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])
        page = (first["url"], (CORPUS / "site" / first["metadata"]["path"]).read_bytes())
        small = path.with_name("small.warc.gz")
        write_warc(small, [page])
        record = small.read_bytes()
        opening = b"<html><body><p>"
        body_len = len(opening) + mib * MIB
        http = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
            + str(body_len).encode()
            + b"\r\n\r\n"
        )
        head = (
            b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID:"
            b" <urn:uuid:00000000-0000-0000-0000-000000000001>\r\nWARC-Target-URI:"
            b" https://big.example/a\r\nWARC-Date: 2023-06-01T00:00:00Z\r\nContent-Type:"
            b" application/http; msgtype=response\r\nContent-Length: "
            + str(len(http) + body_len).encode()
            + b"\r\n\r\n"
            + http
            + opening
        )
        # One record spread over many members is not what writers do, so compress it as one member
        # from a stream: zlib keeps only its window, and the file stays small.
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        with open(path, "wb") as fh:
            fh.write(record)
            fh.write(comp.compress(head))
            block = b"x" * MIB
            for _ in range(mib):
                fh.write(comp.compress(block))
            fh.write(comp.compress(b"\r\n\r\n"))
            fh.write(comp.flush())
            fh.write(record)
        small.unlink()

    return write


def peak_rss(cmd: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """(peak RSS in MB, seconds, exit code, last stderr line) of one child process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    return usage.ru_maxrss / 1024, seconds, proc.returncode, (lines[0] if lines else "")[:110]


NEWSCLF = [str(Path(sys.executable).with_name("newsclf"))]  # the installed command, as users run it
WARC_READER = [
    sys.executable,
    "-c",
    (
        "import sys; from pathlib import Path; from newsclf.batch.inputs import iter_items; items ="
        " list(iter_items(Path(sys.argv[1]), 'warc', 0, 10)); print(f'{sum(i.article is not None"
        " for i in items)} articles of {len(items)} pages', file=sys.stderr)"
    ),
]


def file_rows(
    work: Path, gib: float, only: set[str]
) -> list[tuple[str, str, float, float, int, str]]:
    mib = int(gib * 1024)
    cases = [  # (key, name, file name, writer, command)
        (
            "line",
            f"JSONL, one {gib:g} GiB line (plain)",
            "line.jsonl",
            jsonl_line(mib, False),
            "import",
        ),
        (
            "gz",
            f"JSONL.gz bomb, one {gib:g} GiB line",
            "bomb.jsonl.gz",
            jsonl_line(mib, True),
            "import",
        ),
        (
            "array",
            f"JSON array .gz bomb, one {gib:g} GiB item",
            "bomb.json.gz",
            json_array(mib),
            "import",
        ),
        (
            "warc",
            f"WARC.gz, one {gib / 2:g} GiB body (batch reader)",
            "big.warc.gz",
            warc_body(mib // 2),
            "warc",
        ),
    ]
    anchor = work / "anchor.jsonl"
    anchor.write_text("".join(json.dumps(r) + "\n" for r in GOOD), encoding="utf-8")
    rows = []
    rss, secs, code, _ = peak_rss(
        NEWSCLF + ["--db", str(work / "anchor.db"), "import", str(anchor)], work
    )
    rows.append(("anchor: import of 2 ordinary lines", "-", rss, secs, code, ""))
    warc_anchor = work / "anchor.warc.gz"
    warc_body(1)(warc_anchor)
    rss_w, secs_w, code_w, msg_w = peak_rss(WARC_READER + [str(warc_anchor)], work)
    rows.append(("anchor: WARC.gz, a 1 MiB body (batch reader)", "-", rss_w, secs_w, code_w, msg_w))
    for key, name, file_name, write, how in cases:
        if key not in only:
            continue
        path = work / file_name
        write(path)
        size = f"{path.stat().st_size / MIB:,.1f} MiB"
        if how == "import":
            cmd = NEWSCLF + ["--db", str(work / f"{key}.db"), "import", str(path)]
        else:
            cmd = WARC_READER + [str(path)]
        rss_h, secs_h, code_h, msg = peak_rss(cmd, work)
        rows.append((name, size, rss_h, secs_h, code_h, msg))
        path.unlink()
    return rows


def page_rows() -> list[tuple[str, float, str]]:
    from newsclf.collect.extract import ExtractionError, extract
    from newsclf.collect.pages import detect_pagination

    first = json.loads((CORPUS / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])
    normal = (CORPUS / "site" / first["metadata"]["path"]).read_text(encoding="utf-8")
    para = "<p>" + "Workers who rate chatbot answers earn little, a report said. " * 5 + "</p>"
    pages = [
        ("anchor: a demo article page", normal),
        (
            "200,000 attributes on one <div> (3 MB)",
            "<html><body><div "
            + " ".join(f'a{i}="v"' for i in range(200_000))
            + ">"
            + para
            + "</div></body></html>",
        ),
        (
            "19,000 attributes on each of 3 <div>s",
            "<html><body>"
            + ("<div " + " ".join(f"a{i}" for i in range(19_000)) + ">" + para + "</div>") * 3
            + "</body></html>",
        ),
        (
            "500,000 elements (4 MB)",
            "<html><body><article>" + para + "<b>x</b>" * 500_000 + "</article></body></html>",
        ),
    ]
    rows = []
    for name, html in pages:
        started = time.perf_counter()
        detect_pagination(html, "https://x.example/a")
        try:
            outcome = f"extracted, {len(extract(html, 'https://x.example/a').text):,} characters"
        except ExtractionError as exc:
            outcome = exc.reason[:90]
        rows.append((name, time.perf_counter() - started, outcome))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gib", type=float, default=2.0, help="Size of the huge record (the WARC body is half)."
    )
    parser.add_argument(
        "--only", default="line,gz,array,warc,page", help="Cases to run, comma-separated."
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="newsclf-hostile-") as tmp:
        rows = file_rows(Path(tmp), args.gib, only)
    anchor = rows[0][2]
    print(
        f"{'input':<46} {'file':>11} {'peak RSS MB':>11} {'x anchor':>8} {'seconds':>8} {'exit':>4}"
        "  first message"
    )
    for name, size, rss, secs, code, msg in rows:
        verdict = "" if name.startswith("anchor") else ("  ok" if rss < 500 else "  OVER 500 MB")
        print(
            f"{name:<46} {size:>11} {rss:>11.0f} {rss / anchor:>8.2f} {secs:>8.1f} {code:>4} "
            f" {msg}{verdict}"
        )
    if "page" in only:
        print()
        page = page_rows()
        base = page[0][1]
        print(f"{'page (detect_pagination + extract)':<46} {'seconds':>8} {'x anchor':>8}  outcome")
        for name, secs, outcome in page:
            verdict = "" if name.startswith("anchor") else ("  ok" if secs < 2 else "  OVER 2 s")
            print(f"{name:<46} {secs:>8.2f} {secs / base:>8.1f}  {outcome}{verdict}")


if __name__ == "__main__":
    main()
