"""gapwatch.stats."""
