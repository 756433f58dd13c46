"""Host latency measurement: interleaved trials, sane statistics."""

import keras
import pytest

from fbnetv2_tf.export import latency, tflite


def _conv_model(filters):
  inputs = keras.Input((32, 32, 3))
  x = keras.layers.Conv2D(filters, 3, padding="same")(inputs)
  x = keras.layers.Conv2D(filters, 3, padding="same")(x)
  return tflite.convert_to_tflite(keras.Model(inputs, x))


def test_a_model_with_more_work_measures_slower():
  protocol = latency.Protocol(warmup=5, trials=7, invokes=10)
  result = latency.measure({"small": _conv_model(4), "large": _conv_model(64)},
                           protocol)
  small, large = result["small"], result["large"]
  assert 0 < small.median_ms <= small.p90_ms
  assert small.std_ms >= 0
  # 64 filters do about 250 times the multiply-adds of 4.
  assert large.median_ms > 5 * small.median_ms


@pytest.mark.parametrize("field", ["threads", "trials", "invokes"])
def test_a_protocol_needs_positive_counts(field):
  with pytest.raises(ValueError, match=field):
    latency.Protocol(**{field: 0})
