"""Child processes in tests: killed at a chosen moment, never left running."""

import signal
import subprocess
import time


class ProcessGroup:
  """Starts child processes and kills those still running when the ``with``
  block is left, however it is left: a failed assertion or a timeout in the
  test leaves no process behind to load the machine or hold a port."""

  def __init__(self):
    self._procs = []

  def __enter__(self) -> "ProcessGroup":
    return self

  def start(self, args, **popen_kwargs) -> subprocess.Popen:
    """``subprocess.Popen(args, **popen_kwargs)``, killed on leaving."""
    proc = subprocess.Popen(args, **popen_kwargs)
    self._procs.append(proc)
    return proc

  def __exit__(self, *exc_info) -> None:
    for proc in self._procs:
      if proc.poll() is None:
        proc.kill()
      proc.wait()
      for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
          stream.close()


def kill_when(proc: subprocess.Popen, ready, timeout_s: float,
              interval_s: float = 0.01) -> None:
  """SIGKILLs ``proc`` as soon as ``ready()`` returns true.

  The short polling interval keeps the kill close to the moment ``ready``
  describes, so what the process does next (its next epoch, its next batch)
  has not happened yet.

  Raises:
    AssertionError: ``proc`` ended on its own before ``ready()`` (or before
      the kill reached it), or ``ready()`` stayed false for ``timeout_s``.
  """
  deadline = time.monotonic() + timeout_s
  while not ready():
    assert proc.poll() is None, (
        f"the process ended (exit {proc.returncode}) before it could be "
        "killed")
    assert time.monotonic() < deadline, f"not ready to kill in {timeout_s} s"
    time.sleep(interval_s)
  proc.send_signal(signal.SIGKILL)
  # A process that had ended by itself was not killed: its own exit status.
  assert proc.wait() == -signal.SIGKILL, (
      f"the process ended (exit {proc.returncode}) before the kill")
