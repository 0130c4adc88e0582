"""A minimal raw PostgreSQL protocol client for tests that must send what no
driver would: malformed lengths, unknown messages, protocol extensions, half
startups. It speaks SCRAM-SHA-256 itself (RFC 5802) to log in."""
import base64
import hashlib
import hmac
import os
import socket
import struct


def startup_message(params, version=3 << 16):
    body = struct.pack("!i", version)
    for k, v in params.items():
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def message(type_byte, body=b""):
    return type_byte + struct.pack("!i", len(body) + 4) + body


def query(sql):
    return message(b"Q", sql.encode() + b"\0")


def parse(name, sql, types=()):
    return message(b"P", name.encode() + b"\0" + sql.encode() + b"\0" + struct.pack("!h", len(types)) +
                   b"".join(struct.pack("!i", t) for t in types))


def bind(portal="", statement="", params=()):
    body = portal.encode() + b"\0" + statement.encode() + b"\0" + struct.pack("!h", 0)
    body += struct.pack("!h", len(params))
    for p in params:
        if p is None:
            body += struct.pack("!i", -1)
        else:
            b = p.encode()
            body += struct.pack("!i", len(b)) + b
    body += struct.pack("!h", 0)
    return message(b"B", body)


def execute(portal="", max_rows=0):
    return message(b"E", portal.encode() + b"\0" + struct.pack("!i", max_rows))


def describe(kind, name=""):
    return message(b"D", kind + name.encode() + b"\0")


SYNC = message(b"S")
FLUSH = message(b"H")
TERMINATE = message(b"X")
SSL_REQUEST = struct.pack("!ii", 8, 80877103)
GSSENC_REQUEST = struct.pack("!ii", 8, 80877104)


_SALTED = {}


def _salted_password(password, salt, iterations):
    """PBKDF2 once per password and salt: tests that open thousands of sessions."""
    key = (password, salt, iterations)
    if key not in _SALTED:
        _SALTED[key] = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return _SALTED[key]


class Conn:
    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_byte(self):
        return self.recv_exact(1)

    def read_message(self):
        t = self.recv_exact(1)
        (length,) = struct.unpack("!i", self.recv_exact(4))
        return t, self.recv_exact(length - 4)

    def read_until(self, type_byte):
        """Messages up to and including the first of type_byte, or up to a FATAL
        error (after which the server closes)."""
        out = []
        while True:
            m = self.read_message()
            out.append(m)
            if m[0] == type_byte or (m[0] == b"E" and error_fields(m[1]).get("S") == "FATAL"):
                return out

    def closed(self, timeout=5):
        """True if the peer closes the connection (EOF) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if self.buf:
                    self.buf = b""
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()

    def login(self, user, password, database="dev", extra=None):
        params = {"user": user, "database": database}
        params.update(extra or {})
        self.send(startup_message(params))
        return self.scram(user, password)

    def scram(self, user, password):
        t, body = self.read_message()
        if t == b"E":
            return [(t, body)]
        assert t == b"R" and struct.unpack("!i", body[:4])[0] == 10, (t, body)
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n=,r={nonce}"
        data = ("n,," + first_bare).encode()
        self.send(message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(data)) + data))
        t, body = self.read_message()
        if t == b"E":
            return [(t, body)]
        server_first = body[4:].decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        salt = base64.b64decode(attrs["s"])
        salted = _salted_password(password, salt, int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        stored_key = hashlib.sha256(client_key).digest()
        final_bare = f"c=biws,r={attrs['r']}"
        auth_message = f"{first_bare},{server_first},{final_bare}".encode()
        signature = hmac.new(stored_key, auth_message, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.send(message(b"p", f"{final_bare},p={base64.b64encode(proof).decode()}".encode()))
        return self.read_until(b"Z")


def error_fields(body):
    out = {}
    for part in body.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode(errors="replace")
    return out


def first_error(messages):
    for t, body in messages:
        if t == b"E":
            return error_fields(body)
    return None
