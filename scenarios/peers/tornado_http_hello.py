#!/usr/bin/python3
"""Tornado hello-world peer for wirelab's scenario benchmarks (http-hello).

    /usr/bin/python3 tornado_http_hello.py --host HOST --port PORT

`GET /` answers 200 `Hello, world` (text/plain) over keep-alive HTTP/1.1: a RequestHandler in
an Application (no debug, access log off) served by HTTPServer(xheaders=False) on Tornado's
asyncio IOLoop. Prints `listening on PORT` first, runs until SIGTERM or SIGINT (or until its
parent dies), then exits 0. See README.md in this folder for the whole contract.
"""

import asyncio

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

import peer_common


class Hello(RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("Hello, world")


def no_access_log(handler):
    """Replaces Application.log_request, which would log every request to tornado.access."""


async def main():
    args = peer_common.parse_args("Tornado hello-world peer")
    peer_common.raise_descriptor_limit()
    app = Application([(r"/", Hello)], debug=False, log_function=no_access_log)
    server = HTTPServer(app, xheaders=False)
    sockets = bind_sockets(args.port, address=args.host, backlog=peer_common.LISTEN_BACKLOG)
    await peer_common.run_tornado(sockets, server, server.close_all_connections)


if __name__ == "__main__":
    asyncio.run(main())
