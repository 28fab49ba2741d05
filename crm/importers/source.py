"""Where an import's bytes come from: a small upload in memory or a file on disk.

A large file is never loaded whole: it is read from disk in slices and
streamed, so memory stays bounded whatever its size.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

FileData = bytes | Path

SLICE = 1 << 20


def size_of(data: FileData) -> int:
    return len(data) if isinstance(data, bytes) else data.stat().st_size


def head_of(data: FileData, count: int) -> bytes:
    if isinstance(data, bytes):
        return data[:count]
    with data.open("rb") as file:
        return file.read(count)


def open_binary(data: FileData) -> BinaryIO:
    """A binary stream of the whole file; BytesIO shares the bytes, it does not copy them."""
    if isinstance(data, bytes):
        return io.BytesIO(data)
    return data.open("rb")


def slices(data: FileData, step: int = SLICE) -> Iterator[bytes]:
    """The file in consecutive slices, each ``step`` bytes or fewer."""
    with open_binary(data) as stream:
        while chunk := stream.read(step):
            yield chunk


def sha256_of(data: FileData) -> str:
    digest = hashlib.sha256()
    for chunk in slices(data):
        digest.update(chunk)
    return digest.hexdigest()


def contains(data: FileData, needle: bytes) -> bool:
    """Whether ``needle`` (a single byte here) occurs anywhere in the file."""
    if isinstance(data, bytes):
        return needle in data
    return any(needle in chunk for chunk in slices(data))
