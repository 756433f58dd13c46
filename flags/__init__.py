"""absl flag definitions, one module per binary (`define_*_flags`)."""
