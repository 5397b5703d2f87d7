"""gapwatch.web."""
