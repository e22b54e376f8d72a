"""MQTT ingest: many device connections publishing telemetry at QoS 1, and the server's memory.

    .venv/bin/python -m bench.mqtt [--devices 1000] [--messages 20] [--inflight 8]

Each device connects with its access token (MQTT 3.1.1) and publishes `{"speed": n}` at QoS 1,
keeping up to `--inflight` messages unacknowledged; a message counts once its PUBACK arrived,
which the server sends only after the point is committed. The reference, measured in the same
run, is the HTTP device API taking the same points in batches of one message per request from
the same number of concurrent senders. Peak RSS is the server process's VmHWM.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path

import httpx

from bench.common import (
    SERVER_PIDS,
    admin_headers,
    free_port,
    record,
    scratch_database,
    server,
)
from bench.loadgen import Connection
from roadwatch.telemetry.mqtt.codec import encode, read_frame
from roadwatch.telemetry.mqtt.packets import Connect, Publish

MQTT_311 = 4


async def provision(url: str, count: int) -> list[str]:
    devices = [{"name": f"mq-{n}-{uuid.uuid4().hex[:6]}"} for n in range(count)]
    async with httpx.AsyncClient(base_url=url, headers=admin_headers(), timeout=120) as client:
        tokens: list[str] = []
        for start in range(0, count, 5000):
            answer = await client.post(
                "/api/v1/devices/bulk", json={"devices": devices[start : start + 5000]}
            )
            answer.raise_for_status()
            tokens += [d["access_token"] for d in answer.json()["devices"]]
        # the telemetry service learns of devices from events: wait for the last one
        for _ in range(1200):
            probe = await client.post(f"/api/v1/{tokens[-1]}/telemetry", content=b"{}")
            if probe.status_code != 401:
                break
            await asyncio.sleep(0.25)
    return tokens


async def device(
    port: int,
    token: str,
    messages: int,
    inflight: int,
    ready: asyncio.Event,
    go: asyncio.Event,
    acked: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(encode(Connect(MQTT_311, f"b-{token[:8]}", 120, username=token), MQTT_311))
    await writer.drain()
    _, connack = await read_frame(reader, 1 << 16)
    ready.set()
    if connack[-1] != 0:
        # reported when the run starts rather than leaving it waiting for this device
        raise RuntimeError(f"connection refused with return code {connack[-1]}")
    await go.wait()
    window = asyncio.Semaphore(inflight)

    async def receive() -> None:
        for _ in range(messages):
            await read_frame(reader, 1 << 16)  # PUBACKs, in order
            acked[0] += 1
            window.release()

    receiving = asyncio.create_task(receive())
    for n in range(1, messages + 1):
        await window.acquire()
        payload = b'{"speed": %d}' % n
        writer.write(encode(Publish("v1/devices/me/telemetry", payload, 1, packet_id=n), MQTT_311))
    await writer.drain()
    await receiving
    writer.close()


async def run_mqtt(port: int, tokens: list[str], messages: int, inflight: int) -> float:
    acked = [0]
    go = asyncio.Event()
    readies = [asyncio.Event() for _ in tokens]
    tasks = [
        asyncio.create_task(device(port, t, messages, inflight, r, go, acked))
        for t, r in zip(tokens, readies, strict=True)
    ]
    await asyncio.gather(*(r.wait() for r in readies))
    started = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    if acked[0] != len(tokens) * messages:
        raise RuntimeError(f"{acked[0]} PUBACKs for {len(tokens) * messages} messages")
    return elapsed


async def run_http(url: str, tokens: list[str], messages: int, concurrency: int) -> float:
    queue = [(t, n) for n in range(messages) for t in tokens]

    async def sender() -> None:
        connection = await Connection.open(url)
        try:
            while queue:
                token, n = queue.pop()
                body = b'{"flow": %d}' % n
                status, answer = await connection.post(f"/api/v1/{token}/telemetry", body)
                if status != 200:
                    raise RuntimeError(f"ingest failed: {status} {answer.decode()}")
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main(count: int, messages: int, inflight: int) -> None:
    port = free_port()
    async with scratch_database() as database:
        with server(
            database, "identity,devices,telemetry", {"ROADWATCH_MQTT__PORT": str(port)}
        ) as url:
            tokens = await provision(url, count)
            mqtt_s = await run_mqtt(port, tokens, messages, inflight)
            http_s = await run_http(url, tokens[:200], max(1, messages // 4), 16)
            rss = peak_rss_mb(SERVER_PIDS[url])
    total = count * messages
    http_total = 200 * max(1, messages // 4)
    ours, reference = total / mqtt_s, http_total / http_s
    lines = [
        f"`python -m bench.mqtt --devices {count} --messages {messages} --inflight {inflight}`: "
        f"{count:,} device connections (MQTT 3.1.1) each publishing {messages} one-point "
        f"messages at QoS 1, up to {inflight} unacknowledged each; a PUBACK only after commit. "
        "Reference in the same run: the HTTP device API, one message per request, 16 senders.",
        "",
        "| path | messages/s | ratio to HTTP |",
        "|---|---|---|",
        f"| MQTT QoS 1, {count:,} connections | {ours:,.0f} | {ours / reference:.2f} |",
        f"| HTTP `POST /api/v1/{{token}}/telemetry`, one point per request | {reference:,.0f} "
        "| 1.00 |",
        "",
        f"Server peak RSS with {count:,} devices connected: {rss:,.0f} MiB.",
    ]
    print("\n".join(lines))
    record("MQTT ingest", lines)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--inflight", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.devices, args.messages, args.inflight))


if __name__ == "__main__":
    cli()
