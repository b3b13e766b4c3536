"""Decoding page and feed bytes the way browsers do: declared charset, BOM, <meta> or XML
declaration,
clean UTF-8, then a guess that prefers windows-1252 for unlabelled Latin-script pages.

One decoder for the fetcher and the extractor, so a page reads the same fetched or saved.
"""

from __future__ import annotations

import codecs
import re

from newsclf.errors import InputError

SNIFF_BYTES = 4096

# Single-byte code pages of Latin-script text: charset_normalizer often mistakes one for another
# on short pages (cp1250 for cp1252, say); browsers read unlabelled Western pages as windows-1252.
_LATIN_GUESSES = frozenset(
    {
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "cp1258",
        "latin_1",
        "iso8859_2",
        "iso8859_3",
        "iso8859_4",
        "iso8859_9",
        "iso8859_10",
        "iso8859_13",
        "iso8859_14",
        "iso8859_15",
        "iso8859_16",
        "mac_roman",
        "mac_latin2",
        "mac_iceland",
        "cp437",
        "cp850",
        "cp858",
        "ascii",
    }
)
# WHATWG Encoding: these labels mean windows-1252 on the web.
_AS_WINDOWS_1252 = frozenset({"latin_1", "iso8859_1", "ascii", "us_ascii", "cp819", "l1"})

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_XML_DECL = re.compile(
    rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)["']""", re.IGNORECASE
)
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec(label: str | None) -> str | None:
    """A Python codec name for a charset label, windows-1252 for the labels browsers read so."""
    if not label:
        return None
    label = label.strip().strip("'\"").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name.replace("-", "_") in _AS_WINDOWS_1252:
        return "cp1252"
    return name


def charset_of(content_type_header: str) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    match = re.search(r"charset\s*=\s*[\"']?([^;\"'\s]+)", content_type_header or "", re.IGNORECASE)
    return match.group(1) if match else None


def decode(
    body: bytes, declared: str | None = None, strict_declared: bool = False
) -> tuple[str, str]:
    """(text, encoding) by declared charset, BOM, <meta>/XML declaration, clean UTF-8, then a guess.

    With strict_declared, an unknown declared charset is an InputError instead of being ignored.
    """
    enc = _codec(declared)
    if declared and enc is None and strict_declared:
        raise InputError(
            f"unknown encoding {declared!r}; give a codec name such as utf-8 or windows-1252"
        )
    if enc:
        if body.startswith(codecs.BOM_UTF8) and enc != "utf-8":  # a UTF-8 BOM wins (WHATWG)
            return body[3:].decode("utf-8", errors="replace"), "utf-8"
        if enc == "utf-8":
            return body.decode("utf-8-sig", errors="replace"), enc
        return body.decode(enc, errors="replace"), enc
    for bom, name in BOMS:
        if body.startswith(bom):
            return body.decode(name if name != "utf-8" else "utf-8-sig", errors="replace"), name
    head = body[:SNIFF_BYTES]
    found = _META_CHARSET.search(head) or _XML_DECL.search(head)
    if found:
        enc = _codec(found.group(1).decode("ascii", errors="ignore"))
        # a meta tag readable as ASCII is not UTF-16
        if enc in (
            "utf_16",
            "utf_16_le",
            "utf_16_be",
        ):
            enc = "utf-8"
        if enc:
            return body.decode(enc, errors="replace"), enc
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = _guess(body)
    return body.decode(guess, errors="replace"), guess


def _guess(body: bytes) -> str:
    """Encoding of unlabelled, non-UTF-8 bytes: windows-1252 for Latin script, else
    charset_normalizer."""
    try:
        import charset_normalizer

        best = charset_normalizer.from_bytes(body[:200_000]).best()
    except Exception:  # pragma: no cover - the guesser must never break a fetch
        best = None
    guessed = _codec(best.encoding) if best is not None else None
    try:
        body.decode("cp1252")
        cp1252_clean = True
    except UnicodeDecodeError:
        cp1252_clean = False
    non_ascii = sum(1 for b in body if b >= 0x80)
    latin_guess = guessed is None or guessed.replace("-", "_") in _LATIN_GUESSES
    if cp1252_clean and (latin_guess or non_ascii < 8):
        return "cp1252"
    return guessed or "cp1252"


def guess_encoding(body: bytes) -> str:
    """The codec of bytes that are not UTF-8 and declare nothing: windows-1252 for Latin script,
    else detected."""
    return _guess(body)
