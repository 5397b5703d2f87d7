"""gapwatch.monitor."""
