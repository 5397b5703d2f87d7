"""gapwatch.store."""
