"""Export of child models: TFLite conversion and LiteRT parity checks."""
