"""Benchmarks that print tables (anchors in the same run); data from ../shared/data, skipped when
absent."""
