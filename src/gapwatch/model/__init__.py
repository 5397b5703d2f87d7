"""gapwatch.model."""
