"""Real output files for the simulator: pictures, tones, animations and text.

Content depends on the task's inputs (prompt, seed, ...) so different requests give different
files; `size` asks for incompressible noise of about that many bytes, for delivery-limit tests.
Everything here is CPU work: the server calls it in a worker thread.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
import struct
import wave
from collections.abc import Mapping
from typing import Any

from PIL import Image, ImageDraw

# Save-node class -> kind of file it produces.
SAVE_KINDS = {
    "SaveImage": "image",
    "Image Save": "image",
    "SaveAudio": "audio",
    "SaveAudioMP3": "audio",
    "VHS_VideoCombine": "video",
    "SaveVideo": "video",
    "SaveAnimatedWEBP": "video",
    "SaveAnimatedPNG": "video",
    "SaveText": "text",
    "ShowText|pysssss": "text",
    "SaveText|pysssss": "text",
}
EXTENSIONS = {"image": "png", "audio": "wav", "video": "gif", "text": "txt"}
CONTENT_TYPES = {
    "png": "image/png",
    "wav": "audio/wav",
    "gif": "image/gif",
    "txt": "text/plain; charset=utf-8",
}


def save_nodes(graph: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(node id, kind) of each output node of an API-format workflow, in node-id order."""
    return [
        (node_id, SAVE_KINDS[node["class_type"]])
        for node_id, node in sorted(graph.items(), key=lambda item: node_order(item[0]))
        if node.get("class_type") in SAVE_KINDS
    ]


def render_outputs(
    wanted: list[tuple[str, str]],
    values: Mapping[str, Any],
    task_id: str,
    *,
    image_size: tuple[int, int],
    sizes: Mapping[str, int],
) -> dict[str, tuple[str, str, bytes]]:
    """File name -> (node id, extension, bytes) for each wanted (node id, kind)."""
    prompt = next((str(v) for k, v in values.items() if k.endswith(".text") and v), "")
    seed_text = json.dumps(dict(values), sort_keys=True, default=str)
    files: dict[str, tuple[str, str, bytes]] = {}
    seen: set[str] = set()
    for index, (node_id, kind) in enumerate(wanted, start=1):
        # A node asked for again (Simulator.set_output_count) makes a different picture each time.
        tag = node_id if node_id not in seen else f"{node_id}|{index}"
        seen.add(node_id)
        seed = int.from_bytes(hashlib.sha256(f"{seed_text}|{tag}".encode()).digest()[:8], "big")
        extension = EXTENSIONS[kind]
        name = f"ComfyUI_{index:05d}_{node_id}_{task_id[-6:]}.{extension}"
        data = render(kind, seed, prompt, image_size=image_size, size=sizes.get(kind))
        files[name] = (node_id, extension, data)
    return files


def render(kind: str, seed: int, prompt: str, *, image_size: tuple[int, int], size: int | None) -> bytes:
    rng = random.Random(seed)
    if kind == "image":
        return _noise_png(rng, size) if size else _picture_png(rng, image_size, prompt)
    if kind == "audio":
        return _tone_wav(rng, size)
    if kind == "video":
        return _animation_gif(rng, size)
    text = f"Simulated RunningHub text output.\nPrompt: {prompt}\n"
    if size:
        text = (text * (size // len(text) + 1))[:size]
    return text.encode()


def node_order(node_id: str) -> tuple[int, str]:
    return (int(node_id), node_id) if node_id.isdigit() else (1 << 62, node_id)


def effective_values(graph: dict[str, Any], node_info_list: list[dict[str, Any]]) -> dict[str, Any]:
    """`node.field` -> value: the workflow's literal inputs with the request's overrides applied."""
    values = {
        f"{node_id}.{name}": value
        for node_id, node in graph.items()
        for name, value in node.get("inputs", {}).items()
        if not isinstance(value, list)
    }
    for item in node_info_list:
        values[f"{item.get('nodeId')}.{item.get('fieldName')}"] = item.get("fieldValue")
    return values


def _color(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _picture_png(rng: random.Random, size: tuple[int, int], prompt: str) -> bytes:
    """A gradient with shapes and the prompt written on it: different inputs, different pictures."""
    width, height = size
    top, bottom = _color(rng), _color(rng)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(1, height - 1)
        shade = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=shade)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(max(2, min(width, height) // 10), max(3, min(width, height) // 3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=_color(rng))
    if prompt:
        draw.text((10, 10), prompt[:60], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _noise_png(rng: random.Random, size: int) -> bytes:
    """Incompressible noise, so the PNG is close to `size` bytes (for delivery-limit tests)."""
    side = max(1, math.isqrt(size // 3))
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _tone_wav(rng: random.Random, size: int | None) -> bytes:
    """A short sine tone (16-bit mono, 22.05 kHz); with `size`, long enough to fill it."""
    rate = 22_050
    frames = max(1, size // 2) if size else rate
    frequency = rng.uniform(220.0, 880.0)
    samples = bytearray()
    for i in range(frames):
        samples += struct.pack("<h", int(12_000 * math.sin(2 * math.pi * frequency * i / rate)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return buffer.getvalue()


def _animation_gif(rng: random.Random, size: int | None) -> bytes:
    """A small looping GIF of a moving dot; with `size`, noise frames of about that many bytes."""
    frames: list[Image.Image] = []
    if size:
        side = max(8, math.isqrt(size // 4))
        for _ in range(4):
            frames.append(Image.frombytes("L", (side, side), rng.randbytes(side * side)).convert("P"))
    else:
        background, dot = _color(rng), _color(rng)
        for i in range(8):
            frame = Image.new("RGB", (160, 160), background)
            x = 20 + i * 15
            ImageDraw.Draw(frame).ellipse([x - 12, 68, x + 12, 92], fill=dot)
            frames.append(frame.convert("P"))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    return buffer.getvalue()


def sniff_extension(data: bytes) -> str | None:
    """The file type the magic bytes say, for an upload whose name says nothing (`upload.bin`)."""
    signatures = (
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"\xff\xd8\xff", "jpg"),
        (b"GIF87a", "gif"),
        (b"GIF89a", "gif"),
        (b"ID3", "mp3"),
        (b"fLaC", "flac"),
        (b"OggS", "ogg"),
        (b"PK\x03\x04", "zip"),
    )
    for magic, extension in signatures:
        if data.startswith(magic):
            return extension
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE"):
        return "webp" if data[8:12] == b"WEBP" else "wav"
    if data[4:8] == b"ftyp":
        return "mov" if data[8:10] == b"qt" else "mp4"
    return None
