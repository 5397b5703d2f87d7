"""gapwatch.quality."""
