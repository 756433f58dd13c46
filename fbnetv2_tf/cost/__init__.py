"""Cost models: what a network costs, counted exactly or in expectation.

- ``counting``: MACs and parameters of an ArchSpec, analytically and without
  TensorFlow, in the convention of the published FBNet/FBNetV2 figures.
- ``keras_counting``: the same counts for any Keras model, by walking its
  layers (e.g. ``keras.applications`` models).
- ``effective_shape``: the supernet's differentiable expected cost (MFLOPs,
  M params, or latency through a table) under its decision weights
  (docs/method.md, section 5).
- ``latency_table``: latency lookup tables, their interpolation between
  measured widths, and the expected latency of a supernet.
- ``losses``: ``ResourceLoss``, how the architecture step combines
  cross-entropy with the expected cost (docs/method.md, section 6).
- ``report``: human- and machine-readable reports of counts.
"""
