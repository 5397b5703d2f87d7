"""gapwatch.engine."""
