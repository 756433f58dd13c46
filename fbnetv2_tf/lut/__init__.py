"""Latency lookup tables: candidate blocks as TFLite models, runners that
time them on the host or an Android device, LUT files and their validation."""
