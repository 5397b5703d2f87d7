"""Command line interface: wires the layers together."""
