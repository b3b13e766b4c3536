"""Label: the labelers' web page, the queue, agreement and review."""
