"""A zoo model through fp32 and int8 with the deployment checks (fp16 and
dynamic: test_quantized.py; every zoo model in every mode at full size:
benchmarks/export_table.py)."""

import keras
import numpy as np
import pytest

from fbnetv2_tf.data.image_data import make_image_data
from fbnetv2_tf.export import pipeline
from fbnetv2_tf.models import zoo
from fbnetv2_tf.models.child_model import build_child_model
from tests.testing.models import randomize_batchnorm


@pytest.mark.slow
def test_fbnetv2_f4_exports_folded_static_and_integer_only(tmp_path):
  # 64 px keeps it quick; the graph has the same ops as at 224 px. Seeded
  # weights: the int8 agreement below is then one fixed figure.
  keras.utils.set_random_seed(0)
  model = build_child_model(zoo.get_arch("FBNetV2_F4"), num_classes=10,
                            input_size=64)
  randomize_batchnorm(model)
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (40, 64, 64, 3), dtype=np.uint8)
  labels = np.arange(40) % 10
  data = make_image_data("random", (images, labels), (images[:20], labels[:20]))
  job = pipeline.ExportJob(str(tmp_path), modes=("fp32", "int8"), data=data,
                           latency=None)
  reports = {r.mode: r for r in pipeline.export_model(model, job)}
  fp32 = reports["fp32"]
  assert fp32.parity["ok"], fp32.parity
  assert fp32.xnnpack_partitions == 1
  for report in reports.values():
    assert report.unfolded_batch_norms == 0 and report.dynamic_tensors == 0
    assert report.accuracy["images"] == 20
  assert reports["int8"].float_ops == []
  # Untimed, int8 keeps h-swish in the delegable form: one XNNPACK
  # partition, where the fused form makes 35 (docs/benchmarks/export_table.md).
  assert reports["int8"].hswish["form"] == "delegable"
  assert reports["int8"].xnnpack_partitions == 1
  assert reports["int8"].undelegated_ops == {}
  assert reports["fp32"].accuracy["top1_agreement"] == 1.0
  # int8 calibrated on these images picks the float model's class.
  assert reports["int8"].accuracy["top1_agreement"] >= 0.9
  assert sorted(p.name for p in tmp_path.glob("*.tflite")) == [
      "FBNetV2_F4.fp32.tflite", "FBNetV2_F4.int8.tflite"]
