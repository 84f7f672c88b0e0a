"""The server side of RFC 6455 (WebSocket) in the standard library: handshake key, frame reading and writing.

Enough for an echo endpoint behind an ALB: text/binary/continuation frames (masked by clients, as RFC 6455
section 5.1 requires), ping -> pong, close handshake, and a size limit.
"""
from __future__ import annotations

import base64
import hashlib
import socket
import struct
from dataclasses import dataclass

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG = 1000, 1001, 1002, 1009
MAX_MESSAGE_BYTES = 1024 * 1024


class ProtocolError(Exception):
    def __init__(self, message: str, code: int = CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Frame:
    fin: bool
    opcode: int
    payload: bytes


def accept_key(client_key: str) -> str:
    """`Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((client_key + GUID).encode("ascii")).digest()).decode("ascii")


def valid_client_key(value: str | None) -> bool:
    try:
        return value is not None and len(base64.b64decode(value, validate=True)) == 16
    except ValueError:
        return False


def _read_exact(sock: socket.socket, count: int) -> bytes:
    chunks, remaining = [], count
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionError("peer closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket, *, require_mask: bool = True, limit: int = MAX_MESSAGE_BYTES) -> Frame:
    first, second = _read_exact(sock, 2)
    if first & 0x70:
        raise ProtocolError("reserved bits set without an extension")
    opcode, masked, length = first & 0x0F, bool(second & 0x80), second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exact(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exact(sock, 8))
    if require_mask and not masked:
        raise ProtocolError("client frames must be masked")
    if opcode >= 0x8 and (length > 125 or not first & 0x80):
        raise ProtocolError("control frames are at most 125 bytes and never fragmented")
    if length > limit:
        raise ProtocolError(f"frame of {length} bytes is over the {limit}-byte limit", CLOSE_TOO_BIG)
    mask = _read_exact(sock, 4) if masked else b""
    data = _read_exact(sock, length)
    if masked:
        data = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
    return Frame(fin=bool(first & 0x80), opcode=opcode, payload=data)


def encode_frame(opcode: int, payload: bytes = b"", *, fin: bool = True) -> bytes:
    """A server frame (never masked)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 65536:
        head += bytes([126]) + struct.pack("!H", size)
    else:
        head += bytes([127]) + struct.pack("!Q", size)
    return head + payload


def close_frame(code: int, reason: str = "") -> bytes:
    return encode_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:123])


def echo(sock: socket.socket, *, limit: int = MAX_MESSAGE_BYTES) -> int:
    """Echo every message back until the client closes; returns the close code sent. Fragmented messages are
    reassembled and echoed whole; pings are answered with pongs."""
    message, message_opcode = b"", None
    while True:
        try:
            frame = read_frame(sock, limit=limit)
        except ProtocolError as error:
            sock.sendall(close_frame(error.code, str(error)))
            return error.code
        except (ConnectionError, OSError):
            return CLOSE_GOING_AWAY
        if frame.opcode == OP_CLOSE:
            code = struct.unpack("!H", frame.payload[:2])[0] if len(frame.payload) >= 2 else CLOSE_NORMAL
            sock.sendall(close_frame(code))
            return code
        if frame.opcode == OP_PING:
            sock.sendall(encode_frame(OP_PONG, frame.payload))
            continue
        if frame.opcode == OP_PONG:
            continue
        if frame.opcode in (OP_TEXT, OP_BINARY):
            if message_opcode is not None:
                sock.sendall(close_frame(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one"))
                return CLOSE_PROTOCOL_ERROR
            message, message_opcode = frame.payload, frame.opcode
        elif frame.opcode == OP_CONTINUATION and message_opcode is not None:
            message += frame.payload
        else:
            sock.sendall(close_frame(CLOSE_PROTOCOL_ERROR, f"unexpected opcode {frame.opcode:#x}"))
            return CLOSE_PROTOCOL_ERROR
        if len(message) > limit:
            sock.sendall(close_frame(CLOSE_TOO_BIG, "message too big"))
            return CLOSE_TOO_BIG
        if frame.fin:
            sock.sendall(encode_frame(message_opcode, message))
            message, message_opcode = b"", None
