#!/usr/bin/python3
"""Python `websockets` client peer for wirelab's web integration tests (test helper, not part
of wirelab).

Usage:
    websockets_client.py URL

Connects to URL offering the subprotocol "chat" and permessage-deflate (the library's
defaults do the framing, masking, compression and closing handshake; nothing here touches
bytes), sends a text message, a non-ASCII text message and a binary message, reads each echo,
closes with code 1000 and reason "done", and prints one JSON object on stdout:

    {"subprotocol": ..., "extensions": [...], "echoes": [[kind, value], ...], "close_code": ...}

Exits non-zero on any error, or after TIMEOUT seconds whatever happens.
"""

import asyncio
import json
import sys

import websockets

TIMEOUT = 20.0


async def run(url):
    async with websockets.connect(url, subprotocols=["chat"], compression="deflate") as ws:
        out = {
            "subprotocol": ws.subprotocol,
            "extensions": [type(e).__name__ for e in ws.extensions],
            "echoes": [],
        }
        for message in ["hello", "h\u00e9llo \u2713 \U0001d11e", bytes(range(256)) * 40]:
            await ws.send(message)
            echo = await ws.recv()
            if isinstance(echo, bytes):
                out["echoes"].append(["bytes", len(echo), echo == message])
            else:
                out["echoes"].append(["text", echo])
        await ws.close(code=1000, reason="done")
        out["close_code"] = ws.close_code
    print(json.dumps(out))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    asyncio.run(asyncio.wait_for(run(sys.argv[1]), TIMEOUT))


if __name__ == "__main__":
    main()
