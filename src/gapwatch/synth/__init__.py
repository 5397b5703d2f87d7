"""gapwatch.synth."""
