"""Report: coverage over time and by outlet, with honest uncertainty; plots; the labeling ledger."""
