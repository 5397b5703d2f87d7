"""gapwatch.refdata."""
