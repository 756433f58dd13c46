"""Recognising a user's ``.tflite`` file before a runtime is handed it.

LiteRT answers a damaged or foreign file with a ``ValueError`` from deep in
its loader, and a phone's ``benchmark_model`` with a crash log; a user who
passed the wrong path deserves one line instead.
"""

from __future__ import annotations

from fbnetv2_tf.errors import UserError

# Every TFLite model is a FlatBuffer whose file identifier, bytes 4 to 7,
# is "TFL3" (``file_identifier`` in TensorFlow Lite's schema.fbs).
_IDENTIFIER = b"TFL3"


def check_tflite_file(path: str, load: bool = True) -> None:
  """``path`` is a readable TFLite model (and, with ``load``, one this
  host's LiteRT loads: a phone's runtime may have ops the host lacks, so
  a model for adb is only checked for the identifier); a ``UserError``
  naming the file otherwise."""
  try:
    with open(path, "rb") as f:
      head = f.read(8)
  except OSError as e:
    raise UserError(f"{path}: cannot read ({e.strerror})") from None
  if head[4:8] != _IDENTIFIER:
    raise UserError(f"{path} is not a TFLite model (no 'TFL3' FlatBuffer "
                    "identifier): convert one with fbnetv2-export")
  if not load:
    return
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
  try:
    Interpreter(model_path=path)
  except (ValueError, RuntimeError) as e:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise UserError(f"{path} is a TFLite model this host's LiteRT cannot load: "
                    f"{first}") from None
