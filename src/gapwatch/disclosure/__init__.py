"""gapwatch.disclosure."""
