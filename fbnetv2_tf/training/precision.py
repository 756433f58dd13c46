"""The numeric precision of a training job: Keras' global dtype policy.

``float32`` computes and stores everything in float32. ``mixed_bfloat16``
and ``mixed_float16`` keep every variable in float32 and compute the
activations in 16 bits; float16's narrow range needs loss scaling
(``keras.optimizers.LossScaleOptimizer``), bfloat16's does not. Whatever
the policy, the architecture logits (``layers.gumbel.ArchDecision``), the
expected cost and the classifier's logits stay float32 (their layers say
so), and so does every saved model (``training.child``).

Keras reads the global policy when a layer is made, so a job holds it only
while it builds its model (:func:`applied`) and puts back the one before:
later jobs and tests in the same process are unaffected.
"""

from __future__ import annotations

import contextlib

from fbnetv2_tf.errors import UserError

FLOAT32 = "float32"
MIXED_FLOAT16 = "mixed_float16"
MIXED_BFLOAT16 = "mixed_bfloat16"
PRECISIONS = (FLOAT32, MIXED_FLOAT16, MIXED_BFLOAT16)


def check(name: str) -> str:
  """``name`` if it is a known precision.

  Raises:
    UserError: it is not one of ``PRECISIONS``.
  """
  if name not in PRECISIONS:
    raise UserError(f"unknown precision {name!r}; known: "
                    f"{', '.join(PRECISIONS)}")
  return name


def check_jit_compile(jit_compile: bool, deterministic: bool) -> None:
  """XLA and op determinism exclude each other.

  Raises:
    UserError: both are asked for: Keras compiles without XLA, with a
      warning only, while TensorFlow's op determinism is on.
  """
  if jit_compile and deterministic:
    raise UserError("jit_compile=True needs deterministic=False: Keras "
                    "compiles without XLA while TensorFlow's op determinism "
                    "is on")


def needs_loss_scaling(name: str) -> bool:
  """Whether gradients through ``name``'s activations need loss scaling
  (float16's smallest normal number is 6e-5: small gradients underflow)."""
  return check(name) == MIXED_FLOAT16


@contextlib.contextmanager
def applied(name: str):
  """Sets Keras' global dtype policy to ``name`` for the ``with`` block and
  restores the previous one after it, also when the block raises."""
  import keras  # pylint: disable=g-import-not-at-top
  check(name)
  previous = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(name)
  try:
    yield
  finally:
    keras.mixed_precision.set_global_policy(previous)
