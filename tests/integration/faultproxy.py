"""A fault-injecting loopback HTTP proxy in front of the real gateway, for faults the server
cannot make on demand: 503 SlowDown, 500, a connection reset in the middle of a request body,
a stall past the client's timeout, "delay" (a slow link: forwarded late) and "flip" (one body
byte damaged on the way, then forwarded: the server itself must refuse it). Faults follow a fixed schedule over the requests seen, so
every kind happens in every run. Every response closes its connection (simple, and it makes
the client reconnect, which is part of what is tested)."""
import socket
import struct
import threading

from loopback import LoopbackServer
import time

SLOWDOWN = (b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
            b"<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
DENIED = (b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
          b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>injected</Message></Error>")
INTERNAL = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
            b"<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>injected</Message></Error>")


def header_value(lines, name):
    for line in lines[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode()
    return None


class FaultProxy(LoopbackServer):
    """schedule: a list of fault names or None, applied to request n as schedule[n % len];
    only requests for which `applies(method, target)` is true count and get faults."""

    def __init__(self, upstream_port, schedule, applies=lambda method, target: True, stall_s=4.0, delay_s=0.5,
                 after_forward=None):
        self.upstream_port = upstream_port
        self.schedule = schedule
        self.applies = applies
        self.stall_s = stall_s
        self.delay_s = delay_s  # "delay": forward, but late (a slow link)
        self.lock = threading.Lock()
        self.counter = 0
        self.injected = {}
        # Every request that reached the server: (method, target, request body bytes). The
        # byte count of what a client sent, independent of the client's own counters.
        self.forwarded = []
        # (method, target, x-amz-content-sha256) of every request that reached the server.
        self.payload_hashes = []
        self.after_forward = after_forward  # called with (method, target) once answered
        super().__init__()

    def _next_fault(self, method, target):
        if not self.applies(method, target):
            return None
        with self.lock:
            fault = self.schedule[self.counter % len(self.schedule)]
            self.counter += 1
            if fault:
                self.injected[fault] = self.injected.get(fault, 0) + 1
            return fault

    def _serve(self, conn):
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            header_block, body = head.split(b"\r\n\r\n", 1)
            lines = header_block.split(b"\r\n")
            method, target, _ = lines[0].decode().split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            fault = self._next_fault(method, target)
            if fault == "reset":
                # Take half the body, then reset the connection (RST, not a clean close).
                while len(body) < length // 2:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            while len(body) < length:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    return
                body += chunk
            if fault == "stall":
                time.sleep(self.stall_s)
                return
            if fault == "delay":
                time.sleep(self.delay_s)
            if fault == "flip" and body:
                body = body[:len(body) // 2] + bytes([body[len(body) // 2] ^ 0x01]) + body[len(body) // 2 + 1:]
            if fault in ("503", "500", "403"):
                status, payload = {"503": SLOWDOWN, "500": INTERNAL, "403": DENIED}[fault]
                conn.sendall(status % len(payload) + payload)
                return
            self._forward(conn, lines, body)
            with self.lock:
                self.forwarded.append((method, target, len(body)))
                self.payload_hashes.append((method, target, header_value(lines, b"x-amz-content-sha256")))
            if self.after_forward:
                self.after_forward(method, target)
        except OSError:
            pass
        finally:
            conn.close()

    def _forward(self, conn, lines, body):
        headers = [l for l in lines[1:] if not l.lower().startswith(b"connection:")]
        request = b"\r\n".join([lines[0], *headers, b"Connection: close", b"", b""]) + body
        with socket.create_connection(("127.0.0.1", self.upstream_port)) as up:
            up.sendall(request)
            while True:
                data = up.recv(1 << 20)
                if not data:
                    break
                conn.sendall(data)
