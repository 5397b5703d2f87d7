"""gapwatch.report."""
