"""What a file really is, from its first bytes (never from its name).

Pure functions. `sniff` knows the formats RunningHub's loaders take (and Discord users send):
images png/jpg/webp/gif/bmp, audio wav/mp3/flac/ogg/m4a, video mp4/mov/webm/mkv/avi.
"""

from __future__ import annotations

from bot.runninghub.types import MAX_UPLOAD_BYTES

__all__ = ["EXTENSION_KINDS", "MAX_UPLOAD_BYTES", "kind_for_extension", "sniff"]

# Output file types RunningHub reports (and the ones we sniff), by kind; delivery uses it too.
EXTENSION_KINDS: dict[str, str] = {
    **dict.fromkeys(("png", "jpg", "jpeg", "webp", "gif", "bmp"), "image"),
    **dict.fromkeys(("wav", "mp3", "flac", "ogg", "m4a"), "audio"),
    **dict.fromkeys(("mp4", "mov", "webm", "mkv", "avi"), "video"),
    "txt": "text",
}

# ISO base media brands that are still images (HEIC/AVIF), not videos: RunningHub takes neither.
_IMAGE_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
)
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})
# Old QuickTime files may start with one of these atoms instead of `ftyp`.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"pnot"})
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})


def kind_for_extension(extension: str) -> str | None:
    """'png' -> 'image', 'wav' -> 'audio', 'txt' -> 'text'; None for anything else."""
    return EXTENSION_KINDS.get(extension.lower().lstrip("."))


def _is_mp3_frame(data: bytes) -> bool:
    """An MPEG audio layer III frame header (ADTS AAC has layer bits 00 and is excluded)."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version = (data[1] >> 3) & 0x03
    layer = (data[1] >> 1) & 0x03
    bitrate = data[2] >> 4
    sample_rate = (data[2] >> 2) & 0x03
    return version != 0b01 and layer == 0b01 and bitrate not in (0, 0x0F) and sample_rate != 0b11


def _is_bmp(data: bytes) -> bool:
    # "BM" alone is too common at the start of text; check the DIB header size as well.
    return (
        len(data) >= 26 and data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES
    )


def sniff(data: bytes) -> tuple[str, str] | None:
    """(kind, extension) of `data` from its magic bytes, or None if it is nothing we take."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ("image", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return ("image", "jpg")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return ("image", "gif")
    if head[:4] == b"RIFF" and len(head) >= 12:
        form = head[8:12]
        if form == b"WEBP":
            return ("image", "webp")
        if form == b"WAVE":
            return ("audio", "wav")
        if form == b"AVI ":
            return ("video", "avi")
        return None
    if _is_bmp(head):
        return ("image", "bmp")
    if head.startswith(b"fLaC"):
        return ("audio", "flac")
    if head.startswith(b"OggS"):
        return ("audio", "ogg")
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return ("audio", "mp3")
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return None
        if brand in _AUDIO_BRANDS:
            return ("audio", "m4a")
        return ("video", "mov") if brand == b"qt  " else ("video", "mp4")
    if len(head) >= 8 and head[4:8] in _QUICKTIME_ATOMS:
        return ("video", "mov")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # EBML: the DocType says webm or matroska; it sits in the first few dozen bytes.
        return ("video", "webm") if b"webm" in data[:128] else ("video", "mkv")
    return None
