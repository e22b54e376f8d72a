"""The object store (backups, photos, archived audit segments): a local folder or S3."""

from __future__ import annotations

import asyncio
import os
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from aiobotocore.session import get_session


class ObjectNotFound(Exception):
    pass


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str = "") -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def list(self, prefix: str = "") -> list[str]: ...

    async def check(self) -> None: ...

    async def close(self) -> None: ...


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key {key!r}")
    return key


class FolderStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        return self._root / _safe_key(key)

    async def put(self, key: str, data: bytes, content_type: str = "") -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        # write-then-rename so a reader never sees half an object
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    async def list(self, prefix: str = "") -> list[str]:
        if not self._root.exists():
            return []
        keys = (
            p.relative_to(self._root).as_posix()
            for p in self._root.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
        return sorted(k for k in keys if k.startswith(prefix))

    async def check(self) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        if not os.access(self._root, os.W_OK):
            raise PermissionError(f"{self._root} is not writable")

    async def close(self) -> None:
        return None


class S3Store:
    """s3://bucket/prefix?endpoint=http://host:port&region=...; credentials from the usual
    AWS_* environment variables."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self._bucket = parts.netloc
        self._prefix = parts.path.strip("/")
        self._endpoint = query.get("endpoint", [None])[0]
        self._region = query.get("region", ["us-east-1"])[0]
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def _s3(self) -> Any:
        if self._client is None:
            session = get_session()
            self._client = await self._stack.enter_async_context(
                session.create_client("s3", endpoint_url=self._endpoint, region_name=self._region)
            )
        return self._client

    def _key(self, key: str) -> str:
        _safe_key(key)
        return f"{self._prefix}/{key}" if self._prefix else key

    async def put(self, key: str, data: bytes, content_type: str = "") -> None:
        s3 = await self._s3()
        extra = {"ContentType": content_type} if content_type else {}
        await s3.put_object(Bucket=self._bucket, Key=self._key(key), Body=data, **extra)

    async def get(self, key: str) -> bytes:
        s3 = await self._s3()
        try:
            response = await s3.get_object(Bucket=self._bucket, Key=self._key(key))
        except s3.exceptions.NoSuchKey:
            raise ObjectNotFound(key) from None
        async with response["Body"] as body:
            return bytes(await body.read())

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        await s3.delete_object(Bucket=self._bucket, Key=self._key(key))

    async def list(self, prefix: str = "") -> list[str]:
        s3 = await self._s3()
        full = f"{self._prefix}/{prefix}" if self._prefix else prefix
        strip = len(self._prefix) + 1 if self._prefix else 0
        keys: list[str] = []
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self._bucket, Prefix=full):
            keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        return sorted(keys)

    async def check(self) -> None:
        s3 = await self._s3()
        await s3.head_bucket(Bucket=self._bucket)

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None


def create_object_store(url: str) -> ObjectStore:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FolderStore(Path(parts.path))
    return S3Store(url)
