#!/usr/bin/env python3
"""A loopback TCP proxy that delays every chunk by a fixed one-way latency.

    latency_proxy.py --target-port Q --latency-ms L

Listens on a free port of 127.0.0.1, prints `port=NNNN` once it accepts, and
relays each connection to 127.0.0.1:Q (loopback only, by construction). Each
chunk read is written `L` ms later, in order, in each direction, so a round
trip gains 2*L without limiting throughput. Memory is bounded: at most
IN_FLIGHT chunks of CHUNK bytes per direction (about 4 MiB), whatever L is.

The fallback of scripts/bench-imap.sh when the Rust `fault-proxy` binary
(benches/fault_proxy_main.rs, the testkit's FaultProxy) is not built.
"""

import argparse
import asyncio
import sys
import time

CHUNK = 64 * 1024
IN_FLIGHT = 64


async def pump(reader, writer, delay):
    queue = asyncio.Queue(IN_FLIGHT)

    async def read_side():
        while True:
            data = await reader.read(CHUNK)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                return

    async def write_side():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(read_side(), write_side())
    except (ConnectionError, OSError):
        pass


async def relay(client_reader, client_writer, target_port, delay):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(
        pump(client_reader, server_writer, delay),
        pump(server_reader, client_writer, delay),
    )
    for w in (client_writer, server_writer):
        w.close()


async def serve(target_port, delay):
    server = await asyncio.start_server(
        lambda r, w: relay(r, w, target_port, delay), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    print(f"port={port}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target-port", type=int, required=True)
    p.add_argument("--latency-ms", type=float, required=True)
    a = p.parse_args()
    try:
        asyncio.run(serve(a.target_port, a.latency_ms / 1000.0))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
