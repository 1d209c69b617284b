"""sniff: real minimal files of every kind we take, and the look-alikes we must refuse."""

from __future__ import annotations

import struct

import pytest

from bot.media import MAX_UPLOAD_BYTES, kind_for_extension, sniff
from tests.samples import image_bytes, wav_bytes


def mp3_frame() -> bytes:
    # MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: a 417-byte frame of silence.
    return b"\xff\xfb\x90\x00" + b"\x00" * 413


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def iso_media(brand: bytes) -> bytes:
    return box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"isom") + box(b"mdat", b"\x00" * 16)


def ebml(doctype: bytes) -> bytes:
    # EBML header element with a DocType element (0x4282) of the given name.
    doc = b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doc)]) + doc + b"\x18\x53\x80\x67" + b"\x01" * 8


def riff(form: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + 8) + form + b"LIST" + struct.pack("<I", 0)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (image_bytes(size=(8, 6), fmt="PNG"), ("image", "png")),
        (image_bytes(size=(8, 6), fmt="JPEG"), ("image", "jpg")),
        (image_bytes(size=(8, 6), fmt="WEBP"), ("image", "webp")),
        (image_bytes(size=(8, 6), fmt="GIF", mode="P", color=(10, 200, 30)), ("image", "gif")),
        (image_bytes(size=(8, 6), fmt="BMP"), ("image", "bmp")),
        (wav_bytes(80, b"\x00\x01"), ("audio", "wav")),
        (mp3_frame() * 3, ("audio", "mp3")),
        (b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + mp3_frame(), ("audio", "mp3")),
        (b"fLaC\x00\x00\x00\x22" + b"\x00" * 34, ("audio", "flac")),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x1eOpusHead", ("audio", "ogg")),
        (iso_media(b"M4A "), ("audio", "m4a")),
        (iso_media(b"isom"), ("video", "mp4")),
        (iso_media(b"mp42"), ("video", "mp4")),
        (iso_media(b"qt  "), ("video", "mov")),
        (box(b"moov", b"\x00" * 8), ("video", "mov")),
        (ebml(b"webm"), ("video", "webm")),
        (ebml(b"matroska"), ("video", "mkv")),
        (riff(b"AVI "), ("video", "avi")),
    ],
    ids=lambda v: v[1] if isinstance(v, tuple) else None,
)
def test_sniff_recognises_real_files(data: bytes, expected: tuple[str, str]) -> None:
    assert sniff(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is a text file pretending to be a picture\n",
        b"BMW is a car, not a bitmap, even at the start of a longer line of text",
        b'{"json": true}',
        b"%PDF-1.7\n",
        b"PK\x03\x04" + b"\x00" * 30,  # zip
        iso_media(b"heic"),  # an iPhone photo: an image RunningHub's loaders do not take
        iso_media(b"avif"),
        riff(b"CDXA"),
        b"\xff\xf1\x50\x80\x00\x1f\xfc",  # ADTS AAC: frame sync but layer bits 00
    ],
)
def test_sniff_refuses_what_we_do_not_take(data: bytes) -> None:
    assert sniff(data) is None


def test_sniff_ignores_the_file_name_and_reads_only_the_start() -> None:
    png = image_bytes(size=(8, 6), fmt="PNG")
    assert sniff(png + b"\x00" * 100_000) == ("image", "png")
    assert sniff(b"not an image" + png) is None


def test_extension_kinds_and_limit() -> None:
    assert kind_for_extension("PNG") == "image"
    assert kind_for_extension(".wav") == "audio"
    assert kind_for_extension("mp4") == "video"
    assert kind_for_extension("txt") == "text"
    assert kind_for_extension("latent") is None
    assert MAX_UPLOAD_BYTES == 30 * 1024 * 1024
