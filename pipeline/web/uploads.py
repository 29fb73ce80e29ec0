"""Upload checks: size read in bounded chunks, type by magic bytes (not by name or header)."""
from __future__ import annotations

from fastapi import HTTPException, UploadFile

MAGIC = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}
CHUNK = 1 << 16


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes; 413 once more than ``limit`` bytes arrive."""
    parts, size = [], 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"upload larger than {limit // (1024 * 1024)} MiB")
        parts.append(chunk)
    return b"".join(parts)


def check_image(data: bytes) -> str:
    """The file suffix of a JPEG or PNG; 415 for anything else."""
    for magic, suffix in MAGIC.items():
        if data.startswith(magic):
            return suffix
    raise HTTPException(415, "only JPEG or PNG photos are accepted")
