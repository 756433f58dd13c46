"""Cost models: FLOP and parameter counting (later: effective shapes, latency)."""
