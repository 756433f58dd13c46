"""The runners by name: what a binary's runner choice makes.

Kept apart from ``runner.py``, which every runner imports, so that the
runners' shared base never imports the runners themselves.
"""

from __future__ import annotations

import dataclasses

from fbnetv2_tf.errors import RunnerError
from fbnetv2_tf.lut.adb import AdbRunner
from fbnetv2_tf.lut.host import HostRunner
from fbnetv2_tf.lut.runner import Runner

NAMES = ("host", "adb")


def make_runner(name: str, serial: str | None = None, adb: str = "adb",
                benchmark_binary: str | None = None) -> Runner:
  """``host`` (LiteRT here) or ``adb`` (``benchmark_binary`` on the device
  ``serial``, through the client ``adb``)."""
  if name == "host":
    return HostRunner()
  if name == "adb":
    if not benchmark_binary:
      raise RunnerError("the adb runner needs a benchmark binary (TFLite's "
                        "benchmark_model built for the device)")
    return AdbRunner(benchmark_binary, serial=serial, adb=adb)
  raise RunnerError(f"unknown runner {name!r}; known: {', '.join(NAMES)}")


@dataclasses.dataclass(frozen=True)
class RunnerChoice:
  """Which runner to make, as data a job can carry: ``make_runner``'s
  arguments."""
  name: str = "host"
  serial: str | None = None
  adb: str = "adb"
  benchmark_binary: str | None = None

  def make(self) -> Runner:
    return make_runner(self.name, self.serial, self.adb,
                       self.benchmark_binary)
