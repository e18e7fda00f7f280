#!/usr/bin/python3
"""Twisted Web hello-world peer for wirelab's scenario benchmarks (http-hello).

    /usr/bin/python3 twisted_http_hello.py --host HOST --port PORT

`GET /` answers 200 `Hello, world` (text/plain) over keep-alive HTTP/1.1: a leaf Resource
served by twisted.web's Site, on the epoll reactor, with the access log off. Prints
`listening on PORT` first, runs until SIGTERM or SIGINT (or until its parent dies), then exits
0. See README.md in this folder for the whole contract.
"""

from twisted.internet import epollreactor

# Twisted picks epoll on Linux anyway; installing it by name makes the benchmark say what it ran.
epollreactor.install()

from twisted.internet import reactor  # noqa: E402
from twisted.web import resource, server  # noqa: E402

import peer_common  # noqa: E402

BODY = b"Hello, world"


class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return BODY


class QuietSite(server.Site):
    """A Site without access log.

    logPath=None alone does not turn it off: HTTPFactory then formats a line per request and
    writes it into Twisted's log system, which buffers it even with no observer.
    """

    noisy = False

    def log(self, request):
        pass


def main():
    args = peer_common.parse_args("Twisted Web hello-world peer")
    peer_common.raise_descriptor_limit()
    site = QuietSite(Hello(), logPath=None)
    port = reactor.listenTCP(args.port, site, backlog=peer_common.LISTEN_BACKLOG, interface=args.host)
    peer_common.run_twisted(reactor, port)


if __name__ == "__main__":
    main()
