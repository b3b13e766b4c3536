"""WARC files (ISO 28500) of what the fetcher got, and reading HTML pages back out of them (warcio).

    from newsclf.collect.warc import WarcWriter, iter_warc

    with WarcWriter("crawl/") as warc:           # crawl/newsclf-20230512074500-00000.warc.gz, ...
        for result in fetcher.fetch_many(urls):
            warc.write(result)                    # a request record and a response record

    for page in iter_warc("crawl/newsclf-20230512074500-00000.warc.gz"):
        print(page.url, page.status, len(page.body))

Writing: each record is its own gzip member and the file is flushed after each pair, so a killed
process loses at most the record it was writing; a file rolls over to the next number once it
reaches `max_size` bytes. The response record holds the body as the fetcher decoded it (no
Content-Encoding): its Content-Encoding and Transfer-Encoding headers are kept renamed to
X-Newsclf-Original-*, and Content-Length is the stored body's length. A body cut at the size cap
or by the time-out is marked `WARC-Truncated: length` / `time`. Results with no HTTP answer
(network failures, robots.txt refusals) have nothing to archive and are skipped.

Reading: `iter_warc` yields the HTML response records of a .warc or .warc.gz file, each body read
up to MAX_BODY bytes (a 1 GiB body costs no more). A file cut short or damaged (a crawler killed
mid-write, a partial copy, garbage between records, a wrong Content-Length) yields every complete
record before the damage and then, by default (`strict=True`), raises InputError naming the file
and the byte offset; with `strict=False` it skips the damage, resumes at the next `WARC/1.`
record (or gzip member holding one) and lists each skipped stretch in `damage`.
"""

from __future__ import annotations

import io
import os
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Generator, Iterator
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsclf import __version__
from newsclf.collect.fetch import FetchResult
from newsclf.errors import InputError

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_BODY = (
    5_000_000  # bytes of a response body read back (extraction looks at no more: its MAX_BYTES)
)
_DROP = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass
class WarcPage:
    """One HTML response read back from a WARC file."""

    url: str
    date: str  # the WARC-Date, ISO 8601
    status: int
    content_type: str | None
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    truncated: bool = False  # the body was longer than max_body; only that much was read


class WarcWriter:
    """Write FetchResults as WARC request/response pairs into numbered .warc.gz files."""

    def __init__(
        self, directory: str | Path, prefix: str = "newsclf", max_size: int = 1_000_000_000
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = int(max_size)
        self.paths: list[Path] = []  # every file written, in order
        self.records = 0
        self._serial = 0
        self._fh: io.BufferedWriter | None = None
        self._writer: WARCWriter | None = None
        self._stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")

    def __enter__(self) -> "WarcWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path | None:
        """The file being written now (None before the first write)."""
        return self.paths[-1] if self._fh is not None else None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._writer = None

    def _open(self) -> WARCWriter:
        if self._writer is not None:
            return self._writer
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            path = self.directory / f"{self.prefix}-{self._stamp}-{self._serial:05d}.warc.gz"
            self._serial += 1
            if not path.exists():
                break
        self._fh = open(path, "xb")
        self._writer = WARCWriter(self._fh, gzip=True)
        self.paths.append(path)
        info = self._writer.create_warcinfo_record(
            path.name,
            {
                "software": f"newsclf/{__version__} (warcio)",
                "format": "WARC File Format 1.0",
                "description": "pages fetched by newsclf's polite fetcher; bodies stored decoded",
            },
        )
        self._writer.write_record(info)
        self._fh.flush()
        return self._writer

    def write(self, result: FetchResult) -> bool:
        """Write a request and a response record for one result; False if it had no HTTP answer."""
        if result.status <= 0:
            return False
        writer = self._open()
        url = result.final_url or result.url
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = [(k, v) for k, v in result.request_headers.items()]
        if not any(k.lower() == "host" for k, _ in req_headers):
            req_headers.insert(0, ("Host", parts.netloc))
        date = _warc_date(result.fetched_at)
        request = writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=StatusAndHeaders(
                f"GET {target} {result.http_version}", req_headers, is_http_request=True
            ),
            warc_headers_dict={"WARC-Date": date},
        )
        headers: list[tuple[str, str]] = []
        for key, value in result.headers.items():
            if key.lower() in _DROP:
                if key.lower() != "content-length":
                    headers.append((f"X-Newsclf-Original-{key}", value))
                continue
            headers.append((key, value))
        body = result.body or b""
        headers.append(("Content-Length", str(len(body))))
        warc_headers = {"WARC-Date": date}
        if result.truncated:
            warc_headers["WARC-Truncated"] = result.truncated
        reason = result.reason or ""
        response = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=StatusAndHeaders(
                f"{result.status} {reason}".strip(), headers, protocol=result.http_version
            ),
            warc_headers_dict=warc_headers,
        )
        writer.write_request_response_pair(request, response)
        assert self._fh is not None
        self._fh.flush()
        self.records += 2
        if self._fh.tell() >= self.max_size:
            self.close()
        return True


def _warc_date(iso: str | None) -> str:
    when = None
    if iso:
        try:
            when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        except ValueError:
            when = None
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class WarcDamage:
    """A damaged stretch of a WARC file that reading skipped: where it starts, why, where reading
    resumed."""

    offset: int
    why: str
    resumed_at: int | None = (
        None  # the next `WARC/1.` record after it; None: the file ends in the damage
    )

    def describe(self) -> str:
        """One phrase for a warning."""
        where = (
            f"bytes {self.offset}-{self.resumed_at}"
            if self.resumed_at is not None
            else f"byte {self.offset} to the end"
        )
        return f"{where} ({self.why})"


def iter_warc(
    path: str | Path,
    *,
    strict: bool = True,
    html_only: bool = True,
    damage: list[WarcDamage] | None = None,
    max_body: int = MAX_BODY,
) -> Iterator[WarcPage]:
    """The (HTML) response records of a .warc or .warc.gz file; see the module notes on damage.

    Bodies are read up to `max_body` bytes (the rest is skipped unread, `truncated` set). With
    strict=False, a damaged record is skipped: reading resumes at the next `WARC/1.` record (or
    gzip member holding one), and each skipped stretch is appended to `damage`.
    """
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot open WARC file ({exc.strerror or exc})") from None
    size = os.fstat(fh.fileno()).st_size
    with fh:
        pos: int | None = 0
        while pos is not None and pos < size:
            fh.seek(pos)
            problem = yield from _read_from(fh, pos, size, html_only, max_body)
            if problem is None:
                return
            offset, why = problem
            if strict:
                raise InputError(
                    f"{path}: the WARC file is cut off or damaged at byte {offset} ({why}); "
                    "the records before it were read"
                ) from None
            pos = _next_record(fh, offset + 1, size)
            if damage is not None:
                damage.append(WarcDamage(offset, why, pos))


def _read_from(
    fh: BinaryIO, pos: int, size: int, html_only: bool, max_body: int
) -> Generator[WarcPage, None, tuple[int, str] | None]:
    """Yield the pages of whole records from `pos`; return (offset, why) at the first damaged one,
    or None."""
    records = ArchiveIterator(fh, check_digests=False)
    stream = iter(records)
    good_end = pos  # where the last whole record ends
    while True:
        offset = good_end
        try:
            record = next(stream)
            if not record.rec_type or record.rec_headers.get_header("Content-Length") is None:
                # warcio hands back a record with half its headers as a record with none
                return offset, "the record's WARC headers are cut off"
            page = _page(record, html_only, max_body)
            # the rest of the block, in chunks; a short one shows
            while record.raw_stream.read(_CHUNK):
                pass
            short = getattr(record.raw_stream, "limit", 0) > 0
            records.get_record_length()  # reads past the record's trailing blank lines
        except StopIteration:
            break
        except (
            Exception
        ) as exc:  # warcio fails in many ways on a cut record (headers half there, ...)
            return offset, f"{type(exc).__name__}: {exc}"
        if short:
            return offset, "the record ends before its Content-Length"
        good_end = records.offset
        if page is not None:
            yield page
    if good_end < size:
        # warcio stops quietly at a record whose headers are cut, or a gzip member it cannot finish
        return (
            good_end,
            f"the {size - good_end} bytes after the last whole record are not a whole record",
        )
    return None


_CHUNK = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b\x08"


def _next_record(fh: BinaryIO, start: int, size: int) -> int | None:
    """The offset of the next `WARC/1.` header at a line start, or gzip member that opens with one,
    from `start`."""
    pos = start
    while pos < size:
        fh.seek(pos)
        block = fh.read(1 << 20)
        candidates = sorted(
            i for i in (_find_line_start(block, b"WARC/1."), block.find(_GZIP_MAGIC)) if i >= 0
        )
        for i in candidates:
            if block.startswith(b"WARC/1.", i):
                return pos + i
            fh.seek(pos + i)
            try:
                head = zlib.decompressobj(31).decompress(fh.read(4096), 16)
            except zlib.error:
                head = b""
            if head.startswith(b"WARC/1."):
                return pos + i
        if candidates:  # not a record: look again just past the first candidate
            pos += candidates[0] + 1
        else:
            pos += max(1, len(block) - 8)  # a header may straddle two blocks
    return None


def _find_line_start(block: bytes, needle: bytes) -> int:
    i = block.find(needle)
    while i > 0 and block[i - 1 : i] != b"\n":
        i = block.find(needle, i + 1)
    return i


def _page(record, html_only: bool, max_body: int) -> WarcPage | None:  # type: ignore[no-untyped-def]
    if record.rec_type != "response" or record.http_headers is None:
        return None
    ctype = record.http_headers.get_header("Content-Type") or ""
    media = ctype.split(";")[0].strip().lower() or None
    if html_only and media not in HTML_TYPES:
        return None
    content, parts, got = record.content_stream(), [], 0
    while got <= max_body and (part := content.read(min(_CHUNK, max_body + 1 - got))):
        parts.append(part)
        got += len(part)
    body = b"".join(parts)[:max_body]
    try:
        status = int(record.http_headers.get_statuscode() or 0)
    except ValueError:
        status = 0
    return WarcPage(
        url=record.rec_headers.get_header("WARC-Target-URI") or "",
        date=record.rec_headers.get_header("WARC-Date") or "",
        status=status,
        content_type=media,
        body=body,
        headers={k: v for k, v in record.http_headers.headers},
        truncated=got > max_body,
    )
