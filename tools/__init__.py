"""Command-line binaries (absl). Run as ``python -m tools.NAME`` or installed."""
