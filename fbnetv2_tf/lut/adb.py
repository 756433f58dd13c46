"""Latency on an Android device: TFLite's ``benchmark_model`` over ``adb``.

The binary and every model are pushed once; then, as on the host, the
interleaved trials of ``runner``. A visit is one ``benchmark_model``
process whose mean invoke time is one trial.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shlex
import subprocess
from typing import Mapping

from fbnetv2_tf.errors import DeviceLost, RunnerError
from fbnetv2_tf.lut.runner import (LatencyStats, MeasureSettings,
                                   interleaved_trials)

# What adb prints when the device went away (unplugged, rebooted, adbd died).
_LOST = re.compile(r"device '[^']*' not found|device not found|error: closed"
                   r"|device offline|no devices/emulators found")
# benchmark_model's summary (benchmark_model.cc, BenchmarkLoggingListener):
# "Inference timings in us: Init: 3501, First inference: 156677,
#  Warmup (avg): 43268.1, Inference (avg): 33071.8"; doubles are printed
# the C++ stream way, so large ones read like "1.23457e+06".
_TIMINGS = re.compile(r"Inference timings in us:.*Inference \(avg\): "
                      r"([-+0-9.eE]+|nan|inf)")
_GOVERNOR = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
_PROPS = {"model": "ro.product.model", "soc": "ro.soc.model",
          "abi": "ro.product.cpu.abi", "android": "ro.build.version.release"}
# Each visit is a new process with cold caches; a few untimed invokes settle
# it after the first trial's full warm-up.
_REVISIT_WARMUP = 5
_TIMEOUT_S = 900


def _last_line(*texts: str) -> str:
  for text in texts:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if lines:
      return lines[-1]
  return "(no output)"


def parse_benchmark_output(text: str) -> float:
  """Mean microseconds per invoke of the timed runs in ``benchmark_model``'s
  stdout.

  benchmark_model times each run in whole microseconds, so a model that
  runs in under one (a skip candidate on a fast core) reads 0: a reading,
  not a failure.
  """
  matches = _TIMINGS.findall(text)
  value = float(matches[-1]) if matches else math.nan
  if not math.isfinite(value) or value < 0:
    raise RunnerError("could not read benchmark_model's result; its last "
                      f"line: {_last_line(text)}")
  return value


def _devices(output: str) -> list[tuple[str, str]]:
  """``(serial, state)`` pairs from ``adb devices``."""
  devices = []
  for line in output.splitlines():
    # Skips the header and the "* daemon started successfully" chatter.
    if line.startswith(("List of devices", "*")) or not line.strip():
      continue
    # A state can hold spaces: "no permissions (user in plugdev group...)".
    fields = line.split(None, 1)
    if len(fields) == 2:
      devices.append((fields[0], fields[1].strip()))
  return devices


class AdbRunner:
  """Times ``.tflite`` files on an Android device with ``benchmark_model``."""

  def __init__(self, benchmark_binary: str, serial: str | None = None,
               adb: str = "adb",
               remote_dir: str = "/data/local/tmp/fbnetv2_tf_lut"):
    if not os.path.isfile(benchmark_binary):
      raise RunnerError(
          f"benchmark_model binary {benchmark_binary} does not exist: build "
          "TFLite's benchmark_model for the device's ABI (bazel build -c opt "
          "--config=android_arm64 "
          "//tensorflow/lite/tools/benchmark:benchmark_model) or download a "
          "prebuilt one (android_aarch64_benchmark_model)")
    self._binary = benchmark_binary
    self._adb_path = adb
    self._remote_dir = remote_dir.rstrip("/") or "/"
    self._remote_binary = f"{self._remote_dir}/benchmark_model"
    self._pushed = {}  # remote path -> (local path, size, mtime) pushed there
    self._description = None
    self._serial = self._select(serial)

  def _run(self, args: list[str]) -> subprocess.CompletedProcess:
    try:
      return subprocess.run([self._adb_path, *args], capture_output=True,
                            text=True, timeout=_TIMEOUT_S, check=False)
    except FileNotFoundError:
      raise RunnerError(
          f"adb not found ({self._adb_path}): install the Debian package "
          "`adb` (apt-get install adb) or pass the path to adb") from None
    except subprocess.TimeoutExpired:
      raise RunnerError(f"adb {' '.join(args)} did not finish in "
                        f"{_TIMEOUT_S} s") from None

  def _select(self, serial: str | None) -> str:
    result = self._run(["devices"])
    if result.returncode:
      raise RunnerError("adb devices failed: "
                        f"{_last_line(result.stderr, result.stdout)}")
    devices = _devices(result.stdout)
    if not devices:
      raise RunnerError("no Android device found by `adb devices`: connect "
                        "one over USB and enable USB debugging (Developer "
                        "options)")
    states = dict(devices)
    if serial is None:
      if len(devices) > 1:
        raise RunnerError(f"several Android devices are connected "
                          f"({', '.join(states)}): name one by its serial")
      serial = devices[0][0]
    elif serial not in states:
      raise RunnerError(f"device {serial} is not connected; `adb devices` "
                        f"lists {', '.join(states)}")
    state = states[serial]
    if state == "unauthorized":
      raise RunnerError(f"device {serial} is unauthorized: unlock it and "
                        "accept the 'Allow USB debugging?' RSA key prompt on "
                        "the phone, then retry")
    if state == "offline":
      raise RunnerError(f"device {serial} is offline: reconnect its USB "
                        "cable (or run `adb kill-server`), then retry")
    if state != "device":
      raise RunnerError(f"device {serial} is not ready for adb: {state}")
    return serial

  def _adb(self, *args: str, check: bool = True
           ) -> subprocess.CompletedProcess:
    """``adb -s SERIAL ARGS``; raises DeviceLost when the device is gone."""
    result = self._run(["-s", self._serial, *args])
    if result.returncode and _LOST.search(f"{result.stderr}\n{result.stdout}"):
      raise DeviceLost(
          f"lost Android device {self._serial} "
          f"({_last_line(result.stderr, result.stdout)}): the measurements "
          "so far are kept; reconnect it and rerun to resume")
    if check and result.returncode:
      raise RunnerError(f"adb {' '.join(args)} failed: "
                        f"{_last_line(result.stderr, result.stdout)}")
    return result

  def _shell(self, *args: str) -> str:
    return self._adb("shell", *args).stdout.strip()

  def describe(self) -> dict:
    if self._description is None:
      props = {key: self._shell("getprop", name)
               for key, name in _PROPS.items()}
      if not props["soc"]:  # ro.soc.model exists from Android 12 on.
        props["soc"] = self._shell("getprop", "ro.board.platform")
      governor = self._adb("shell", "cat", _GOVERNOR, check=False)
      with open(self._binary, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
      self._description = {
          "runner": "adb", "serial": self._serial, **props,
          "governor": (governor.stdout.strip() if governor.returncode == 0
                       else "") or "unknown",
          "runtime": "benchmark_model",
          "binary": os.path.basename(self._binary),
          "binary_sha256": digest}
    return self._description

  def _push(self, local: str, remote: str) -> bool:
    """Pushes ``local`` unless that very file is there already."""
    stat = os.stat(local)
    identity = (os.path.realpath(local), stat.st_size, stat.st_mtime_ns)
    if self._pushed.get(remote) == identity:
      return False
    self._adb("push", local, remote)
    self._pushed[remote] = identity
    return True

  def _visit(self, remote_model: str, settings: MeasureSettings,
             warmup: int) -> float:
    """Mean microseconds per invoke of one ``benchmark_model`` process."""
    command = [] if settings.cpu is None else ["taskset",
                                               format(1 << settings.cpu, "x")]
    # min_secs/warmup_min_secs 0: exactly the runs asked for (the defaults
    # keep going for at least 1 s and 0.5 s).
    command += [self._remote_binary, f"--graph={remote_model}",
                f"--num_threads={settings.threads}",
                f"--warmup_runs={warmup}", f"--num_runs={settings.runs}",
                "--min_secs=0", "--warmup_min_secs=0", "--use_xnnpack=true"]
    # adb joins its arguments into one line for the device's shell.
    result = self._adb("shell", *map(shlex.quote, command), check=False)
    if result.returncode:
      raise RunnerError(f"benchmark_model failed on {remote_model}: "
                        f"{_last_line(result.stderr, result.stdout)}")
    return parse_benchmark_output(result.stdout)

  def measure(self, models: Mapping[str, str], settings: MeasureSettings
              ) -> dict[str, LatencyStats]:
    self._adb("shell", "mkdir", "-p", shlex.quote(self._remote_dir))
    if self._push(self._binary, self._remote_binary):
      self._adb("shell", "chmod", "755", shlex.quote(self._remote_binary))
    remote = {name: f"{self._remote_dir}/{name}.tflite" for name in models}
    for name, path in models.items():
      self._push(path, remote[name])

    def visit(name: str, trial: int) -> float:
      warmup = (settings.warmup if trial == 0
                else min(settings.warmup, _REVISIT_WARMUP))
      return self._visit(remote[name], settings, warmup)

    return interleaved_trials(list(models), settings, visit)

  def close(self) -> None:
    """Removes what was pushed; a device that is gone keeps it."""
    try:
      self._adb("shell", "rm", "-rf", shlex.quote(self._remote_dir),
                check=False)
    except RunnerError:
      pass
    self._pushed.clear()

  def __enter__(self) -> AdbRunner:
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()
