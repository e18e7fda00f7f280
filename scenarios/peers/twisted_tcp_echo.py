#!/usr/bin/python3
"""Twisted TCP echo peer for wirelab's scenario benchmarks (tcp-echo).

    /usr/bin/python3 twisted_tcp_echo.py --host HOST --port PORT

Echoes every byte back as it arrives: a Protocol whose dataReceived writes the data back, on
the epoll reactor. Prints `listening on PORT` first, runs until SIGTERM or SIGINT (or until its
parent dies), then exits 0. See README.md in this folder for the whole contract.
"""

from twisted.internet import epollreactor

# Twisted picks epoll on Linux anyway; installing it by name makes the benchmark say what it ran.
epollreactor.install()

from twisted.internet import protocol, reactor  # noqa: E402

import peer_common  # noqa: E402


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class EchoFactory(protocol.Factory):
    protocol = Echo
    # Otherwise Twisted logs "Starting factory" / "Stopping factory"; nobody reads it here.
    noisy = False


def main():
    args = peer_common.parse_args("Twisted TCP echo peer")
    peer_common.raise_descriptor_limit()
    port = reactor.listenTCP(args.port, EchoFactory(), backlog=peer_common.LISTEN_BACKLOG, interface=args.host)
    peer_common.run_twisted(reactor, port)


if __name__ == "__main__":
    main()
