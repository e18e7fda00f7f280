#!/usr/bin/python3
"""Twisted peer for wirelab's framing interop tests (test helper, not part of wirelab).

Usage:
    twisted_framing.py PROTOCOL serve            listen on 127.0.0.1:0 and print the port
    twisted_framing.py PROTOCOL connect PORT     connect to 127.0.0.1:PORT

PROTOCOL is one of: line, netstring, int32. Twisted's own LineReceiver, NetstringReceiver and
Int32StringReceiver do the framing; nothing here parses bytes by hand.

On connection the peer:
  1. sends the greetings below, framed by Twisted (the bytes its receiver writes, captured), with TCP_NODELAY on; the short ones go out
     one byte per write with a 2 ms pause between writes (reactor.callLater), so each byte leaves
     in its own TCP segment and reaches the other side in its own read in practice; the long one
     goes out in 1000-byte pieces;
  2. echoes every message it receives, framed by Twisted (echoes wait for the greetings);
  3. on the message b"bye", echoes it and closes the connection (after its greetings).

It prints one line per event on stdout ("port N", "received HEX", "reads N", "lost REASON")
for the test's log, and exits once the connection is closed, or after TIMEOUT seconds whatever happens.
"""

import sys

from twisted.internet import protocol, reactor
from twisted.internet.testing import StringTransport
from twisted.protocols import basic

TIMEOUT = 20.0
STEP = 0.002


def greetings(kind):
    binary = bytes(range(256))
    if kind == "line":
        # Lines cannot contain the delimiter; drop CR and LF from the binary one.
        binary = bytes(b for b in binary if b not in (10, 13))
    short = [b"hello", b"", b"with:colon,comma", binary[:40], b"\xff\x00\xfe"]
    long = bytes((i * 7) % 256 for i in range(10000))
    if kind == "line":
        long = bytes(b if b not in (10, 13) else 32 for b in long)
    return short, long


def twistedFrame(receiverClass, send, message):
    """The bytes Twisted's own receiver writes for `message` (captured on a StringTransport)."""
    proto = receiverClass()
    transport = StringTransport()
    proto.makeConnection(transport)
    send(proto, message)
    return transport.value()


class Peer:
    """Mixed into each Twisted receiver below: sends greetings slowly, echoes, closes on bye."""

    def connectionMade(self):
        self.transport.setTcpNoDelay(True)
        short, long = greetings(self.kind)
        pieces = []
        for message in short:
            data = self.frame(message)
            pieces.extend(data[i : i + 1] for i in range(len(data)))
        data = self.frame(long)
        pieces.extend(data[i : i + 1000] for i in range(0, len(data), 1000))
        self.pending = pieces
        # Echoes wait until the greetings are out, so that frames never interleave.
        self.echoes = []
        self.byeRequested = False
        self.sendNext()

    def sendNext(self):
        if not self.pending:
            for data in self.echoes:
                self.send(data)
            self.echoes = []
            if self.byeRequested:
                self.transport.loseConnection()
            return
        self.transport.write(self.pending.pop(0))
        reactor.callLater(STEP, self.sendNext)

    def message(self, data):
        print("received", data.hex(), flush=True)
        if data == b"bye":
            self.byeRequested = True
        if self.pending:
            self.echoes.append(data)
            return
        self.send(data)
        if self.byeRequested:
            self.transport.loseConnection()

    def dataReceived(self, data):
        # How many reads the bytes arrived in: the test logs it to show the splitting.
        self.reads = getattr(self, "reads", 0) + 1
        super().dataReceived(data)

    def connectionLost(self, reason):
        print("reads", getattr(self, "reads", 0), flush=True)
        print("lost", reason.getErrorMessage(), flush=True)
        if reactor.running:
            reactor.stop()


class LinePeer(Peer, basic.LineReceiver):
    kind = "line"

    def lineReceived(self, line):
        self.message(line)

    def send(self, data):
        self.sendLine(data)

    def frame(self, data):
        return twistedFrame(basic.LineReceiver, basic.LineReceiver.sendLine, data)


class NetstringPeer(Peer, basic.NetstringReceiver):
    kind = "netstring"

    def stringReceived(self, string):
        self.message(string)

    def send(self, data):
        self.sendString(data)

    def frame(self, data):
        return twistedFrame(basic.NetstringReceiver, basic.NetstringReceiver.sendString, data)


class Int32Peer(Peer, basic.Int32StringReceiver):
    kind = "int32"

    def stringReceived(self, string):
        self.message(string)

    def send(self, data):
        self.sendString(data)

    def frame(self, data):
        return twistedFrame(basic.Int32StringReceiver, basic.Int32StringReceiver.sendString, data)


PEERS = {"line": LinePeer, "netstring": NetstringPeer, "int32": Int32Peer}


class OneShotClientFactory(protocol.ClientFactory):
    def clientConnectionFailed(self, connector, reason):
        print("failed", reason.getErrorMessage(), flush=True)
        reactor.stop()


def main(argv):
    if len(argv) < 3 or argv[1] not in PEERS or argv[2] not in ("serve", "connect"):
        sys.stderr.write(__doc__)
        return 2
    peer = PEERS[argv[1]]
    reactor.callLater(TIMEOUT, reactor.stop)
    if argv[2] == "serve":
        factory = protocol.Factory.forProtocol(peer)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        print("port", port.getHost().port, flush=True)
    else:
        factory = OneShotClientFactory.forProtocol(peer)
        reactor.connectTCP("127.0.0.1", int(argv[3]), factory, timeout=10)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
