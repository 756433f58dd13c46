"""Export of child models: TFLite files and the checks written beside them.

- ``sources``: the Keras model to export, from a trained ``.keras`` file or
  an architecture with optional weights.
- ``tflite``: a Keras model to a TFLite flatbuffer with a fixed batch of 1,
  in fp32 or quantized (fp16, dynamic range, int8).
- ``tflite_file``: recognising a user's ``.tflite`` file before a runtime
  is handed it.
- ``hswish``: the form h-swish takes in the file: the fused op, or
  elementwise ops XNNPACK runs in int8.
- ``graph``: what a TFLite file contains (ops and the types they compute
  in, XNNPACK partitions and the ops that cause them, unfolded BatchNorms,
  dynamic tensors).
- ``metadata``: TFLite Metadata for image classifiers (labels, input
  normalization, tensor names), written and read back.
- ``parity``: TFLite models run in LiteRT and compared with Keras.
- ``checks``: the report of one exported file, its checks and the
  warnings that explain its latency.
- ``model_card``: the card beside the files: what the model is, what it
  was searched for, what it costs, how fast and accurate each file is.
- ``pipeline``: a child model to TFLite files in one or more modes, each
  checked (latency through ``lut``'s one timing protocol) and described in
  a JSON file beside it.
- ``qat``: quantization-aware training with tensorflow-model-optimization,
  run as a process of its own.
- ``tf_keras_graph``: a Keras 3 child rebuilt layer for layer as a tf_keras
  model, for QAT (only the QAT process imports it).
"""
