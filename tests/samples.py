"""Small real media files for tests: pictures Pillow can open, WAV clips the `wave` module can read."""

from __future__ import annotations

import io
import wave

from PIL import Image


def image_bytes(
    color: tuple[int, int, int] = (200, 30, 30),
    size: tuple[int, int] = (32, 32),
    fmt: str = "PNG",
    mode: str = "RGB",
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt)
    return buffer.getvalue()


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (32, 32)) -> bytes:
    return image_bytes(color, size)


def wav_bytes(frames: int = 800, sample: bytes = b"\x00\x00") -> bytes:
    """A mono 16-bit 8 kHz clip of `frames` samples."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(8000)
        clip.writeframes(sample * frames)
    return buffer.getvalue()
