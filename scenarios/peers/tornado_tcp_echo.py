#!/usr/bin/python3
"""Tornado TCP echo peer for wirelab's scenario benchmarks (tcp-echo).

    /usr/bin/python3 tornado_tcp_echo.py --host HOST --port PORT

Echoes every byte back as it arrives: a TCPServer whose handle_stream awaits
read_bytes(65536, partial=True) and writes what it got, in a loop, on Tornado's asyncio IOLoop.
Prints `listening on PORT` first, runs until SIGTERM or SIGINT (or until its parent dies), then
exits 0. See README.md in this folder for the whole contract.
"""

import asyncio

from tornado.iostream import StreamClosedError
from tornado.netutil import bind_sockets
from tornado.tcpserver import TCPServer

import peer_common

#: The most one read hands back; the workload's messages are 64 bytes.
READ_CHUNK = 65536


class EchoServer(TCPServer):
    def __init__(self):
        super().__init__()
        # Open streams, so that shutdown can close them and their handlers can end normally.
        self.streams = set()
        self.idle = asyncio.Event()
        self.idle.set()

    async def handle_stream(self, stream, address):
        self.streams.add(stream)
        self.idle.clear()
        try:
            while True:
                data = await stream.read_bytes(READ_CHUNK, partial=True)
                await stream.write(data)
        except StreamClosedError:
            pass
        finally:
            self.streams.discard(stream)
            if not self.streams:
                self.idle.set()

    async def close_all_streams(self):
        for stream in list(self.streams):
            stream.close()
        # Each closed stream fails its handler's pending read; let them all return.
        await self.idle.wait()


async def main():
    args = peer_common.parse_args("Tornado TCP echo peer")
    peer_common.raise_descriptor_limit()
    server = EchoServer()
    sockets = bind_sockets(args.port, address=args.host, backlog=peer_common.LISTEN_BACKLOG)
    await peer_common.run_tornado(sockets, server, server.close_all_streams)


if __name__ == "__main__":
    asyncio.run(main())
