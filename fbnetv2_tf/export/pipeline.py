"""ArchSpec to `.keras` and `.tflite` files with a LiteRT parity check."""

from __future__ import annotations

import dataclasses
import os

import keras

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.export import parity, tflite
from fbnetv2_tf.models.child_model import build_child_model
from fbnetv2_tf.specs.arch_spec import ArchSpec


@dataclasses.dataclass(frozen=True)
class ExportResult:
  name: str
  keras_path: str
  tflite_path: str
  tflite_bytes: int
  mflops: float
  parity: parity.Parity

  def summary(self) -> str:
    status = "ok" if self.parity.ok else "MISMATCH"
    return (f"{self.name}: {self.mflops:.2f} MFLOPs -> {self.tflite_path} "
            f"({self.tflite_bytes / 2**20:.1f} MiB); LiteRT vs Keras max |diff| "
            f"{self.parity.max_abs_diff:.2e} (tolerance "
            f"{self.parity.tolerance:.0e}): {status}")


def save_keras_atomically(model: keras.Model, path: str) -> None:
  tmp = f"{path[:-len('.keras')]}.tmp{os.getpid()}.keras"
  model.save(tmp)
  os.replace(tmp, path)


def export_arch(arch: ArchSpec, output_dir: str, num_classes: int = 1000,
                weights: str | None = None) -> ExportResult:
  """Builds ``arch``, optionally loads weights, writes .keras and .tflite."""
  model = build_child_model(arch, num_classes=num_classes)
  if weights:
    model.load_weights(weights)
  keras_path = os.path.join(output_dir, f"{arch.name}.keras")
  tflite_path = os.path.join(output_dir, f"{arch.name}.tflite")
  save_keras_atomically(model, keras_path)
  size = tflite.write_tflite(model, tflite_path)
  with open(tflite_path, "rb") as f:
    check = parity.check_parity(model, f.read())
  return ExportResult(arch.name, keras_path, tflite_path, size,
                      count_arch(arch, num_classes).mflops, check)
