"""The export pipeline's h-swish choice, its warnings, and what it writes
beside the files: timed on the host and on the adb stand-in."""

import json
import os

import keras
import numpy as np
import pytest

from fbnetv2_tf.data import load_dataset
from fbnetv2_tf.errors import UserError
from fbnetv2_tf.export import checks, graph, metadata, pipeline
from fbnetv2_tf.lut.runner import MeasureSettings
from fbnetv2_tf.lut.runners import RunnerChoice
from fbnetv2_tf.models.child_model import build_child_model
from fbnetv2_tf.specs.arch_string import parse_arch_string, to_arch_string
from tests.testing import fake_adb

ARCH = parse_arch_string(
    "forms@16: conv_k3_hs-c8-s2 | ir_k3_sehsig_hs-c8-e3, ir_k5_hs-c16-s2-e4")
# Few short trials: these tests are about the choice, not the figures.
QUICK = MeasureSettings(threads=1, warmup=2, trials=3, runs=5,
                        fast_within=None)


@pytest.fixture(scope="module")
def data():
  return load_dataset("digits", image_size=16).subset(200, 100)


@pytest.fixture(scope="module")
def model():
  keras.utils.set_random_seed(0)
  return build_child_model(ARCH, num_classes=10, input_channels=1)


def _export(model, data, out, **changes):
  settings = {"modes": ("fp32", "int8"), "data": data, "latency": QUICK,
              "arch_string": to_arch_string(ARCH), **changes}
  job = pipeline.ExportJob(str(out), **settings)
  return {r.mode: r for r in pipeline.export_model(model, job)}


def _assert_kept_the_faster(reports, out):
  for report in reports.values():
    timed = report.hswish["median_us"]
    assert set(timed) == {"fused", "delegable"}
    assert all(us > 0 for us in timed.values())
    assert report.hswish["form"] == min(timed, key=timed.get)
    assert report.hswish["chosen_by"] == "latency"
    assert report.latency["median_us"] == timed[report.hswish["form"]]
    kept = (out / f"forms.{report.mode}.tflite").read_bytes()
    fused_ops = "HARD_SWISH" in graph.op_counts(kept)
    assert fused_ops == (report.hswish["form"] == "fused")
    saved = json.loads((out / f"forms.{report.mode}.json").read_text())
    assert saved["hswish"] == report.hswish


def test_auto_keeps_the_faster_form_on_the_host(model, data, tmp_path):
  reports = _export(model, data, tmp_path)
  _assert_kept_the_faster(reports, tmp_path)


@pytest.mark.slow
def test_auto_keeps_the_faster_form_on_the_adb_stand_in(model, data, tmp_path,
                                                        monkeypatch):
  bin_dir, root = tmp_path / "bin", tmp_path / "devices"
  bin_dir.mkdir()
  root.mkdir()
  binary = tmp_path / "benchmark_model"
  binary.write_bytes(b"\x7fELF stand-in")
  monkeypatch.setenv("FAKE_ADB_ROOT", str(root))
  monkeypatch.setenv("FAKE_ADB_DEVICES", "SER1:device")
  runner = RunnerChoice("adb", adb=fake_adb.install(bin_dir),
                        benchmark_binary=str(binary))
  out = tmp_path / "out"
  reports = _export(model, data, out, runner=runner)
  _assert_kept_the_faster(reports, out)
  # Every file was timed on the "phone": 2 modes x 2 forms.
  log = (root / "shell.log").read_text()
  assert sum(f"/{m}.{f}.tflite" in log for m in ("fp32", "int8")
             for f in ("fused", "delegable")) == 4


def test_untimed_auto_follows_the_rule_and_int8_stays_whole(model, data,
                                                            tmp_path):
  reports = _export(model, data, tmp_path, latency=None)
  assert reports["fp32"].hswish["form"] == "fused"
  assert reports["int8"].hswish["form"] == "delegable"
  assert {r.hswish["chosen_by"] for r in reports.values()} == {"rule"}
  int8 = reports["int8"]
  assert int8.xnnpack_partitions == 1 and int8.undelegated_ops == {}
  assert int8.warnings == []


def test_a_forced_fused_int8_file_warns_of_its_partitions(model, data,
                                                          tmp_path):
  reports = _export(model, data, tmp_path, latency=None, hswish="fused")
  int8 = reports["int8"]
  assert int8.hswish == {"requested": "fused", "form": "fused",
                         "chosen_by": "flag", "layers": 6, "median_us": {}}
  assert int8.undelegated_ops == {"HARD_SWISH": 6}
  (warning,) = int8.warnings
  assert "7 XNNPACK partitions" in warning and "6 HARD_SWISH" in warning
  assert "--hswish=delegable" in warning and "\n" not in warning


def test_an_int8_file_slower_than_fp32_is_named():
  report = checks.ExportReport(
      "m", "int8", "m.int8.tflite", 1, {}, [], 1, {}, 0, 0, {},
      latency={"median_us": 2500.0})
  warning = checks.slower_than_float_warning(report, 2000.0, "host")
  assert warning == ("m int8 runs slower than fp32 on host: 2.500 ms against "
                     "2.000 ms")
  assert checks.slower_than_float_warning(report, 3000.0, "host") is None


def test_labels_metadata_and_card_beside_the_files(model, data, tmp_path):
  reports = _export(model, data, tmp_path, latency=None)
  names = sorted(os.listdir(tmp_path))
  # Nothing else: the staging folder is gone, no .keras was needed.
  assert names == ["forms.fp32.json", "forms.fp32.tflite", "forms.int8.json",
                   "forms.int8.tflite", "forms.labels.txt", "forms.md"]
  labels = (tmp_path / "forms.labels.txt").read_text().splitlines()
  assert labels == [str(d) for d in range(10)]  # the digits' class names
  for mode in ("fp32", "int8"):
    written = metadata.read_metadata(
        (tmp_path / f"forms.{mode}.tflite").read_bytes())
    assert written.labels == tuple(labels)
    assert (written.mean, written.std) == ((127.5,), (127.5,))
    assert (written.input_name, written.output_name) == ("image", "logits")
    assert (written.input_size, written.channels) == (16, 1)
    assert reports[mode].metadata["labels"] == 10
  card = (tmp_path / "forms.md").read_text()
  assert to_arch_string(ARCH) in card
  assert "| int8 | `forms.int8.tflite` |" in card
  assert f"{reports['int8'].accuracy['tflite']:.4f}" in card


def test_labels_that_do_not_fit_the_classes_are_refused(model, tmp_path):
  job = pipeline.ExportJob(str(tmp_path / "out"), labels=("a", "b"),
                           latency=None)
  with pytest.raises(UserError, match="2 labels for model 'forms', "
                     "which outputs 10 class scores"):
    pipeline.export_model(model, job)
  assert not (tmp_path / "out").exists()


def test_a_form_the_search_did_not_price_is_named():
  report = checks.ExportReport(
      "m", "int8", "m.int8.tflite", 1, {}, [], 1, {}, 0, 0, {},
      hswish={"form": "fused", "layers": 3})
  lut = {"path": "phone.json", "dtype": "int8", "hswish": "delegable"}
  warning = checks.priced_otherwise_warning(report, {"search": {"lut": lut}})
  assert warning == ("m int8 holds h-swish fused, but the search priced it "
                     "delegable (latency table phone.json): export with "
                     "--hswish=delegable to ship what was priced, or rebuild "
                     "the table")
  # The same form, a float table for an int8 file, no table, no h-swish.
  for provenance in ({"search": {"lut": {**lut, "hswish": "fused"}}},
                     {"search": {"lut": {**lut, "dtype": "fp32"}}}, {}):
    assert checks.priced_otherwise_warning(report, provenance) is None
  report.hswish["layers"] = 0
  assert checks.priced_otherwise_warning(report, {"search": {"lut": lut}}) is None


def test_an_export_that_fails_half_way_leaves_no_file(model, data, tmp_path,
                                                      monkeypatch):
  checked = []

  def fail_second(*args, **kwargs):
    checked.append(args[1])
    if len(checked) == 2:
      raise RuntimeError("a conversion that went wrong")
    return real(*args, **kwargs)

  real = pipeline.check_file
  monkeypatch.setattr(pipeline, "check_file", fail_second)
  out = tmp_path / "new" / "nested" / "out"
  with pytest.raises(RuntimeError, match="went wrong"):
    _export(model, data, out, latency=None)
  assert checked == ["fp32", "int8"]  # fp32 was done when int8 failed
  assert os.listdir(tmp_path) == []  # the folders it made are gone too
  (tmp_path / "kept").mkdir()
  (tmp_path / "kept" / "mine.txt").write_text("a user's file")
  checked.clear()
  with pytest.raises(RuntimeError):
    _export(model, data, tmp_path / "kept", latency=None)
  assert os.listdir(tmp_path / "kept") == ["mine.txt"]


def test_save_keras_keeps_the_model_beside_its_files(model, data, tmp_path):
  job = pipeline.ExportJob(str(tmp_path), modes=("fp32",), latency=None)
  pipeline.export_model(model, job, save_keras=True)
  assert sorted(os.listdir(tmp_path)) == [
      "forms.fp32.json", "forms.fp32.tflite", "forms.keras", "forms.labels.txt",
      "forms.md"]
  saved = keras.saving.load_model(tmp_path / "forms.keras", compile=False)
  images = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 1)).astype(
      "float32")
  np.testing.assert_array_equal(saved.predict(images, verbose=0),
                                model.predict(images, verbose=0))


def test_a_folder_in_a_files_place_stops_the_export_before_any_move(
    model, data, tmp_path):
  (tmp_path / "forms.md").mkdir()
  with pytest.raises(UserError, match="forms.md is a folder"):
    _export(model, data, tmp_path, latency=None)
  assert os.listdir(tmp_path) == ["forms.md"]


def test_a_mode_given_twice_and_a_file_for_a_folder_are_one_line_errors(
    model, data, tmp_path):
  with pytest.raises(UserError, match="mode fp32 given more than once"):
    _export(model, data, tmp_path, modes=("fp32", "int8", "fp32"))
  (tmp_path / "taken").write_text("")
  with pytest.raises(UserError, match="taken is a file"):
    _export(model, data, tmp_path / "taken" / "out", latency=None)
  assert os.listdir(tmp_path) == ["taken"]


def test_a_model_that_is_not_an_image_classifier_gets_no_metadata(tmp_path):
  inputs = keras.Input((6,))
  dense = keras.Model(inputs, keras.layers.Dense(3)(inputs), name="dense")
  job = pipeline.ExportJob(str(tmp_path), modes=("fp32",), latency=None)
  assert pipeline.classifier_metadata(dense, job) is None
  reports = pipeline.export_model(dense, job)
  assert reports[0].metadata is None
  assert sorted(os.listdir(tmp_path)) == [
      "dense.fp32.json", "dense.fp32.tflite", "dense.md"]


def test_untimed_auto_converts_each_mode_once(model, data, tmp_path,
                                              monkeypatch):
  converted = []
  real = pipeline.tflite.convert_to_tflite

  def counting(variant, mode, *args, **kwargs):
    converted.append((mode, hswish_of(variant)))
    return real(variant, mode, *args, **kwargs)

  monkeypatch.setattr(pipeline.tflite, "convert_to_tflite", counting)
  _export(model, data, tmp_path, latency=None)
  assert converted == [("fp32", "fused"), ("int8", "delegable")]


def hswish_of(variant):
  from fbnetv2_tf.export import hswish  # pylint: disable=import-outside-toplevel
  return "fused" if hswish.count_hard_swish(variant) else "delegable"


def test_a_form_asked_of_a_model_without_hswish_is_none(data, tmp_path):
  relu = build_child_model(parse_arch_string("relu@16: conv_k3-c8-s2"), 10,
                           input_channels=1)
  reports = _export(relu, data, tmp_path, latency=None, hswish="delegable")
  assert {r.mode: (r.hswish["form"], r.hswish["chosen_by"])
          for r in reports.values()} == {"fp32": ("fused", "none"),
                                         "int8": ("fused", "none")}


def test_int8_io_files_carry_no_metadata(model, data, tmp_path):
  reports = _export(model, data, tmp_path, latency=None, int8_io=True)
  assert reports["int8"].metadata is None
  assert reports["fp32"].metadata["labels"] == 10
  with pytest.raises(UserError, match="has no TFLite Metadata"):
    metadata.read_metadata((tmp_path / "forms.int8.tflite").read_bytes())
  assert (tmp_path / "forms.labels.txt").exists()
