"""MQTT's data representations (MQTT 3.1.1 and 5.0, section 1.5): integers, UTF-8 strings,
binary data and variable byte integers, read from and written to a packet's body."""

from __future__ import annotations

import struct

MAX_VARINT = 268_435_455

# MQTT 5 reason codes for a broken packet; 3.1.1 has none and just closes the connection
MALFORMED = 0x81
PROTOCOL_ERROR = 0x82


class MalformedPacket(Exception):
    """What was received breaks the specification: the connection is closed.

    `reason` is the MQTT 5 reason code sent in the CONNACK or DISCONNECT before closing.
    """

    def __init__(self, message: str, reason: int = MALFORMED) -> None:
        super().__init__(message)
        self.reason = reason


class ProtocolError(MalformedPacket):
    """Well-formed bytes, but a packet or value the protocol does not allow here."""

    def __init__(self, message: str, reason: int = PROTOCOL_ERROR) -> None:
        super().__init__(message, reason)


def encode_varint(value: int) -> bytes:
    """A variable byte integer: 7 bits a byte, least significant first, top bit = more."""
    if not 0 <= value <= MAX_VARINT:
        raise ValueError(f"{value} does not fit a variable byte integer")
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """(value, offset after it) of the variable byte integer at `offset`."""
    value = 0
    for index in range(4):
        if offset + index >= len(data):
            raise MalformedPacket("variable byte integer runs past the end of the packet")
        byte = data[offset + index]
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, offset + index + 1
    raise MalformedPacket("variable byte integer longer than 4 bytes")


class Reader:
    """A cursor over one packet's body; every read checks that the bytes are there."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise MalformedPacket("packet shorter than its contents say")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def u8(self) -> int:
        return self._take(1)[0]

    def u16(self) -> int:
        value: int = struct.unpack(">H", self._take(2))[0]
        return value

    def u32(self) -> int:
        value: int = struct.unpack(">I", self._take(4))[0]
        return value

    def varint(self) -> int:
        value, self.pos = decode_varint(self.data, self.pos)
        return value

    def binary(self) -> bytes:
        return self._take(self.u16())

    def string(self) -> str:
        raw = self.binary()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPacket("string is not well-formed UTF-8") from None
        if "\x00" in text:
            raise MalformedPacket("string contains U+0000")
        return text

    def rest(self) -> bytes:
        return self._take(self.remaining())

    def sub(self, size: int) -> Reader:
        """A reader over the next `size` bytes (a property block), consumed from this one."""
        return Reader(self._take(size))


class Writer:
    """Builds a packet's body."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def u8(self, value: int) -> None:
        self.buf.append(value)

    def u16(self, value: int) -> None:
        self.buf += struct.pack(">H", value)

    def u32(self, value: int) -> None:
        self.buf += struct.pack(">I", value)

    def varint(self, value: int) -> None:
        self.buf += encode_varint(value)

    def binary(self, value: bytes) -> None:
        if len(value) > 0xFFFF:
            raise ValueError("binary data longer than 65535 bytes")
        self.u16(len(value))
        self.buf += value

    def string(self, value: str) -> None:
        self.binary(value.encode("utf-8"))

    def raw(self, value: bytes) -> None:
        self.buf += value
