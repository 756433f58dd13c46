"""The model card traces a model back through the files the binaries write."""

import json

from fbnetv2_tf.export import model_card
from fbnetv2_tf.specs.arch_spec import save_archs
from fbnetv2_tf.specs.arch_string import parse_arch_string, to_arch_string

ARCH = parse_arch_string("child@32/8: conv_k3_hs-c8-s2 | ir_k3-c16-e3")


def _search_and_train(tmp_path, lut=None):
  """A search directory and a training directory as fbnetv2-search and
  fbnetv2-train leave them (only the files the trace reads)."""
  search, train = tmp_path / "search", tmp_path / "train"
  search.mkdir()
  train.mkdir()
  save_archs(search / "arch.json", [ARCH])
  (search / "flags.json").write_text(json.dumps(
      {"space": "tiny32", "loss": "budget", "target_mflops": 0.3,
       "target_mparams": None, "lut": lut}))
  (search / "search_result.json").write_text(json.dumps(
      {"arch": "child", "counted_cost": 0.2833, "metric": "mflops"}))
  (train / "flags.json").write_text(json.dumps(
      {"arch": str(search / "arch.json"), "dataset": "fashion_mnist",
       "epochs": 8}))
  (train / "train_result.json").write_text(json.dumps(
      {"arch": "child", "test_accuracy": 0.8869}))
  (train / "child.keras").write_bytes(b"")  # the trace reads only its path
  return search, train


def test_a_trained_child_traces_to_its_training_and_its_search(tmp_path):
  search, train = _search_and_train(tmp_path)
  provenance = model_card.trace(str(train / "child.keras"))
  assert provenance == {
      "training": {"dataset": "fashion_mnist", "epochs": 8,
                   "test_accuracy": 0.8869},
      "arch": to_arch_string(ARCH),
      "search": {"space": "tiny32", "loss": "budget", "counted_cost": 0.2833,
                 "metric": "mflops", "targets": {"MFLOPs": 0.3}}}
  # An --arch that is the search's arch.json starts the trace there.
  assert model_card.trace(str(search / "arch.json")) == {
      "arch": provenance["arch"], "search": provenance["search"]}


def test_a_table_that_is_gone_leaves_its_path_only(tmp_path):
  _, train = _search_and_train(tmp_path, lut=str(tmp_path / "gone.json"))
  lut = model_card.trace(str(train / "child.keras"))["search"]["lut"]
  assert lut == {"path": str(tmp_path / "gone.json")}


def test_what_cannot_be_traced_is_left_out(tmp_path):
  lone = tmp_path / "lone.keras"
  lone.write_bytes(b"")
  assert model_card.trace(str(lone)) == {}
  assert model_card.trace("FBNetV2_F1") == {}
  assert model_card.trace(None) == {}


def test_the_card_says_what_was_searched_and_how_it_checked_out(tmp_path):
  from fbnetv2_tf.cost.counting import Counts  # pylint: disable=import-outside-toplevel
  from fbnetv2_tf.export.checks import ExportReport  # pylint: disable=import-outside-toplevel
  provenance = {
      "training": {"dataset": "fashion_mnist", "epochs": 8,
                   "test_accuracy": 0.8869},
      "search": {"space": "tiny32", "loss": "budget", "counted_cost": 0.2833,
                 "metric": "mflops", "targets": {"MFLOPs": 0.3},
                 "lut": {"path": "/x/phone.json", "device": "adb: Pixel 7 GS201, "
                         "1 thread(s), int8", "dtype": "int8",
                         "hswish": "delegable", "padding": "symmetric"}}}
  report = ExportReport(
      "child", "int8", "/out/child.int8.tflite", 3 * 2**20, {}, [], 1, {}, 0,
      0, {}, accuracy={"images": 10000, "keras": 0.8869, "tflite": 0.8863,
                       "top1_agreement": 0.99},
      latency={"median_us": 1234.0, "settings": {"threads": 1}},
      hswish={"form": "delegable"}, warnings=["child int8: something"])
  card = model_card.render("child", to_arch_string(ARCH), Counts(()),
                           [report], provenance, "adb: Pixel 7 GS201")
  for line in (
      to_arch_string(ARCH),
      "- Space: `tiny32`, loss `budget`, target 0.3 MFLOPs; the derived "
      "architecture counted 0.2833 (mflops).",
      "- Latency table: `phone.json`, measured on adb: Pixel 7 GS201, 1 "
      "thread(s), int8 (h-swish delegable, padding symmetric).",
      "Trained on fashion_mnist for 8 epochs: test accuracy 0.8869 (Keras).",
      "Latency: median on adb: Pixel 7 GS201.",
      "Accuracy on 10000 test images; the float Keras model scores 0.8869.",
      "| int8 | `child.int8.tflite` | 3.00 | delegable | 1 | 1.234 ms (1 "
      "thread(s)) | 0.8863 |",
      "- child int8: something"):
    assert line in card, line


def test_side_files_with_odd_values_only_shorten_the_card(tmp_path):
  _, train = _search_and_train(tmp_path)
  (train / "train_result.json").write_text(json.dumps({"test_accuracy": None}))
  provenance = model_card.trace(str(train / "child.keras"))
  assert provenance["training"]["test_accuracy"] is None
  from fbnetv2_tf.cost.counting import Counts  # pylint: disable=import-outside-toplevel
  card = model_card.render("child", None, Counts(()), [], provenance, None)
  assert "Trained on fashion_mnist for 8 epochs." in card


def test_missing_fields_are_left_out_not_printed_as_none(tmp_path):
  from fbnetv2_tf.cost.counting import Counts  # pylint: disable=import-outside-toplevel
  provenance = {"training": {"dataset": "digits", "epochs": None,
                             "test_accuracy": None},
                "search": {"space": "tiny32", "loss": "budget",
                           "counted_cost": None, "metric": None}}
  card = model_card.render("child", None, Counts(()), [], provenance, None)
  assert "None" not in card
  assert "Trained on digits." in card
  assert "- Space: `tiny32`, loss `budget`, target none." in card
