"""Export of child models: TFLite files and the checks written beside them.

- ``sources``: the Keras model to export, from a trained ``.keras`` file or
  an architecture with optional weights.
- ``tflite``: a Keras model to a TFLite flatbuffer with a fixed batch of 1,
  in fp32 or quantized (fp16, dynamic range, int8).
- ``tflite_file``: recognising a user's ``.tflite`` file before a runtime
  is handed it.
- ``graph``: what a TFLite file contains (ops and the types they compute
  in, XNNPACK partitions, unfolded BatchNorms, dynamic tensors).
- ``parity``: TFLite models run in LiteRT and compared with Keras.
- ``pipeline``: a child model to TFLite files in one or more modes, each
  checked (latency through ``lut``'s one timing protocol) and described in
  a JSON file beside it.
- ``qat``: quantization-aware training with tensorflow-model-optimization,
  run as a process of its own.
- ``tf_keras_graph``: a Keras 3 child rebuilt layer for layer as a tf_keras
  model, for QAT (only the QAT process imports it).
"""
