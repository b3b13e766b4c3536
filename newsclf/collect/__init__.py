"""Collect: polite fetching, extraction, multi-page stitching, feeds, sitemaps, WARC, duplicates."""
