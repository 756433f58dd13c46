"""Local TCP ports for test servers that no other process can take."""

import contextlib
import socket


@contextlib.contextmanager
def reserved_ports(count: int):
  """Yields ``count`` free TCP port numbers, held until the block is left.

  Each port stays bound, on 127.0.0.1, by a socket with SO_REUSEADDR that
  never listens. While it is bound the kernel gives the port to no other
  process: not to a plain bind, not as an ephemeral port. A server that
  binds it with SO_REUSEADDR of its own still can, alongside the held
  socket: TensorFlow's gRPC server does (it listens on all interfaces with
  that option), so workers started with these ports bind them, and nothing
  else can take a port between its choice and their bind, as it could if
  the probing sockets were closed first.
  """
  sockets = []
  try:
    for _ in range(count):
      held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
      sockets.append(held)
      held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
      held.bind(("127.0.0.1", 0))
    yield [s.getsockname()[1] for s in sockets]
  finally:
    for held in sockets:
      held.close()
