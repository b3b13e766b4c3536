"""Opening researchers' text files: the encoding (declared, BOM, UTF-8, else detected and named) and
a CSV's delimiter.

Bytes the chosen encoding cannot read are kept as lone surrogates (`surrogateescape`), never
silently
turned into U+FFFD; `has_undecodable` finds them so the reader can reject that one line and say why.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from newsclf.errors import InputError

SNIFF_BYTES = 1 << 20  # how much of a file decides its encoding
DELIMITERS = (",", ";", "\t", "|")
_UNDECODABLE = re.compile(
    "[\udc80-\udcff]"
)  # what surrogateescape makes of a byte the codec cannot read


def check_encoding(name: str) -> str:
    """The Python codec name for an encoding the user gave, or InputError naming the fix."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InputError(
            f"unknown encoding {name!r}; give a codec name such as utf-8, cp1252 or latin-1"
        ) from None


def sniff_encoding(sample: bytes, complete: bool) -> tuple[str, bool]:
    """(codec, detected) for a file's first bytes: a BOM, else UTF-8 if they decode, else
    charset-normalizer's guess.

    `complete` says the sample is the whole file (else a multi-byte character cut at its end is
    fine).
    """
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if sample.startswith(bom):
            return name, False
    try:
        sample.decode("utf-8")
        return "utf-8-sig", False
    except UnicodeDecodeError as exc:
        if not complete and exc.reason == "unexpected end of data":
            return "utf-8-sig", False
    from newsclf.collect.encoding import guess_encoding

    guess = guess_encoding(sample)
    return ("cp1252" if guess != "cp1252" and _reads_as_latin(sample, guess) else guess), True


def _reads_as_latin(sample: bytes, guess: str) -> bool:
    """True if cp1252 is the likelier reading of bytes a detector called `guess`.

    Researchers' spreadsheets come from Excel on Windows far more often than from DOS or East Asian
    code pages, and short Latin text fools detectors (a French line becomes cp857, Korean or Czech).
    So: any clean cp1252 reading beats another single-byte guess; it beats a multi-byte guess when
    its non-ASCII characters stand mostly alone (é in café), not in runs (what CJK bytes become).
    """
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    # a single-byte code page
    if len(bytes(range(128, 256)).decode(guess, errors="replace")) == 128:
        # ... of a Latin script; a Cyrillic, Greek, Hebrew, Arabic or Thai reading is kept.
        letters = [
            c for c in sample.decode(guess, errors="replace") if ord(c) > 127 and c.isalpha()
        ]
        if not letters or sum(
            unicodedata.name(c, "").startswith("LATIN") for c in letters
        ) * 2 >= len(letters):
            return True
        # A non-Latin reading whose letters mostly sit in words with ASCII letters ("äAAA" read as
        # Hebrew) is not that script: no Hebrew, Cyrillic or Greek word mixes in ASCII letters,
        # while a Latin word carries its accents that way.
        return accents_inside_latin_words(text)
    runs = [len(m.group()) for m in re.finditer(r"[^\x00-\x7f]+", text)]
    return sum(runs) > 0 and sum(n for n in runs if n >= 3) / sum(runs) < 0.5


def accents_inside_latin_words(text: str) -> bool:
    """True if most non-ASCII letters of `text` stand in words that have ASCII letters too."""
    inside = alone = 0
    for word in re.findall(r"\w+", text):
        accents = sum(ord(c) > 127 for c in word)
        if any(c.isascii() and c.isalpha() for c in word):
            inside += accents
        else:
            alone += accents
    return inside > alone


def _raw(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # type: ignore[return-value]


@contextlib.contextmanager
def open_decoded(
    path: str | Path, encoding: str | None = None, on_notice: Callable[[str], None] | None = None
) -> Iterator[TextIO]:
    """A text handle on a (possibly gzipped) file or `-` (stdin) in its encoding; a detected one is
    named via on_notice."""
    stdin = str(path) == "-"
    if encoding:
        codec = check_encoding(encoding)
        codec = "utf-8-sig" if codec == "utf-8" else codec
    elif stdin:
        codec = (  # a pipe cannot be read twice; undecodable bytes are still reported per line
            "utf-8-sig"
        )
    else:
        with _raw(Path(path)) as fh:
            sample = fh.read(SNIFF_BYTES + 1)
        codec, detected = sniff_encoding(sample[:SNIFF_BYTES], complete=len(sample) <= SNIFF_BYTES)
        if detected and on_notice is not None:
            on_notice(
                f"{path}: read as {codec} (not UTF-8; detected from its bytes); "
                "if that is wrong, pass --encoding"
            )
    raw: Any = sys.stdin.buffer if stdin else _raw(Path(path))
    fh = io.TextIOWrapper(raw, encoding=codec, errors="surrogateescape", newline="")
    try:
        yield fh
    finally:
        if stdin:
            fh.detach()  # the process's stdin outlives one reader
        else:
            fh.close()


def has_undecodable(value: Any) -> bool:
    """True if a string anywhere in value holds a byte its file's encoding could not read."""
    # A stack, not recursion: a hostile line nested thousands deep is refused later, by name, not
    # here.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _UNDECODABLE.search(item) is not None:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def undecodable_message(encoding: str | None) -> str:
    """What to tell the user about a line with bytes its file's encoding could not read."""
    read_as = encoding or "UTF-8"
    return (
        f"the line has bytes that are not valid {read_as} (the file was read as {read_as}); "
        "pass --encoding with the file's real encoding, e.g. --encoding cp1252"
    )


def sniff_delimiter(header: str) -> str:
    """The delimiter among , ; tab | that a CSV header line uses most outside quotes (',' when
    none)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the earlier, more common one
    return best if counts[best] else ","


def parse_delimiter(value: str) -> str:
    """A --delimiter value as one character: ',', ';', '|', 'tab' or '\\t'."""
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(value.lower(), value)
    if len(value) != 1:
        raise InputError(f"--delimiter takes one character (or 'tab'), not {value!r}")
    return value
