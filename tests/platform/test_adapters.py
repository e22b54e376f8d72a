"""The cache and object-store adapters behave alike whichever backend is configured."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from roadwatch.platform.cache import Cache, create_cache
from roadwatch.platform.storage import ObjectNotFound, ObjectStore, create_object_store
from tests.fixtures.server import free_port
from tests.fixtures.services import REDIS_URL, flush_redis_namespace, need


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    namespace = f"rwt-{uuid.uuid4().hex[:8]}:"
    if request.param == "redis":
        need("Redis", "127.0.0.1", 6379)
        made = create_cache(REDIS_URL, namespace)
    else:
        made = create_cache("memory://")
    yield made
    await made.close()
    if request.param == "redis":
        await flush_redis_namespace(namespace)


async def test_cache_values_expire(cache: Cache) -> None:
    await cache.set("a", b"1", ttl_s=0.2)
    await cache.set("b", b"2")
    assert await cache.get("a") == b"1"
    await asyncio.sleep(0.3)
    assert await cache.get("a") is None
    assert await cache.get("b") == b"2"
    await cache.delete("b")
    assert await cache.get("b") is None


async def test_cache_counters_count_within_their_window(cache: Cache) -> None:
    assert [await cache.incr("hits", ttl_s=0.3) for _ in range(3)] == [1, 2, 3]
    await asyncio.sleep(0.4)
    assert await cache.incr("hits", ttl_s=0.3) == 1


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A local S3 endpoint (moto's server) with a bucket."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        httpx.put(f"{url}/roadwatch-test").raise_for_status()
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(params=["folder", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ObjectStore]:
    if request.param == "folder":
        made = create_object_store(f"file://{tmp_path / 'objects'}")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        made = create_object_store(
            f"s3://roadwatch-test/run-{uuid.uuid4().hex[:8]}?endpoint={endpoint}"
        )
    await made.check()
    yield made
    await made.close()


async def test_objects_round_trip_and_list_by_prefix(store: ObjectStore) -> None:
    await store.put("backups/2026/a.bin", b"\x00\x01payload", "application/octet-stream")
    await store.put("backups/2026/b.bin", b"second")
    await store.put("photos/p.jpg", b"jpeg")
    assert await store.get("backups/2026/a.bin") == b"\x00\x01payload"
    assert await store.list("backups/") == ["backups/2026/a.bin", "backups/2026/b.bin"]
    assert await store.list() == ["backups/2026/a.bin", "backups/2026/b.bin", "photos/p.jpg"]
    await store.delete("photos/p.jpg")
    with pytest.raises(ObjectNotFound):
        await store.get("photos/p.jpg")


async def test_object_keys_cannot_escape_the_store(store: ObjectStore) -> None:
    for key in ("../etc/passwd", "/abs", "a//b", ""):
        with pytest.raises(ValueError):
            await store.put(key, b"x")
