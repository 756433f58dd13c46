"""The helpers the multi-process tests rely on do what they promise."""

import socket

import pytest

from tests.testing.ports import reserved_ports


def _bind(port, reuse):
  s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  if reuse:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  s.bind(("127.0.0.1", port))
  return s


def test_a_reserved_port_is_refused_to_others_and_open_to_its_server():
  with reserved_ports(2) as ports:
    assert len(set(ports)) == 2
    with pytest.raises(OSError):
      _bind(ports[0], reuse=False).close()
    server = _bind(ports[1], reuse=True)  # as TensorFlow's gRPC server binds
    server.listen()
    server.close()
  _bind(ports[0], reuse=False).close()  # released on leaving the block
