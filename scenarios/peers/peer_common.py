"""What the four peer servers share: the command line, the descriptor limit, the announcement.

Not a server itself; each peer script imports it from its own folder (Python puts the script's
folder first on sys.path). It uses no framework, so the Twisted and Tornado peers stay each the
plain, idiomatic way to write that server in that framework.
"""

import argparse
import os
import resource
import sys

#: How often a peer checks whether its parent is still alive, in seconds.
PARENT_POLL_SECONDS = 1.0


def parse_args(description):
    """Parses `--host HOST --port PORT` (port 0 means an ephemeral port)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on, 0 for an ephemeral one (default 0)")
    return parser.parse_args()


def raise_descriptor_limit():
    """Raises the soft RLIMIT_NOFILE to the hard limit: load sweeps open up to 1,000 connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard cap cannot be the soft limit for descriptors (the kernel's nr_open
    # bounds it); the hard cap here is 20,000, so that case only matters elsewhere.
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def announce(port):
    """Prints the first stdout line the runner waits for, and flushes it at once."""
    sys.stdout.write(f"listening on {port}\n")
    sys.stdout.flush()


class ParentWatch:
    """Tells whether the process that started this peer has gone (our parent id changed).

    When the runner dies without stopping us, we are re-parented (to init or a subreaper), so a
    changed os.getppid() means nobody will ever send us SIGTERM: the peer must stop by itself.
    """

    def __init__(self):
        self.parent = os.getppid()

    def orphaned(self):
        return os.getppid() != self.parent


#: The listen backlog: Node's default (511), so a burst of connects meets the same accept queue
#: on every server compared, rather than Twisted's 50 or Tornado's 128.
LISTEN_BACKLOG = 511


def run_twisted(reactor, port):
    """Announces `port` (a listening Twisted port) and runs the reactor until told to stop.

    SIGTERM, SIGINT or the parent's death stop the reactor, which closes the listening port and
    every connection; returns then, so the caller exits 0. Our own signal handlers go in before
    the announcement: a runner may send SIGTERM the moment it reads the line, before
    reactor.run() would have installed Twisted's.
    """
    import signal

    from twisted.internet import task

    def stop():
        if reactor.running:
            reactor.stop()

    def on_signal(_signum, _frame):
        # Queued for the reactor thread; if it is not running yet, it runs on its first turn.
        reactor.callFromThread(stop)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    watch = ParentWatch()

    def check_parent():
        if watch.orphaned():
            stop()

    task.LoopingCall(check_parent).start(PARENT_POLL_SECONDS, now=False)
    announce(port.getHost().port)
    reactor.run(installSignalHandlers=False)


async def run_tornado(sockets, server, close_connections):
    """Announces the port of `sockets` and serves on the current IOLoop until told to stop.

    SIGTERM, SIGINT or the parent's death stop the server: it stops listening, then
    `close_connections()` (awaited) closes whatever is still open, and this returns, so the
    caller's asyncio.run() ends and the process exits 0.
    """
    import asyncio
    import signal

    from tornado.ioloop import PeriodicCallback

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    watch = ParentWatch()

    def check_parent():
        if watch.orphaned():
            stopping.set()

    poll = PeriodicCallback(check_parent, PARENT_POLL_SECONDS * 1000)
    poll.start()
    server.add_sockets(sockets)
    announce(sockets[0].getsockname()[1])
    await stopping.wait()
    poll.stop()
    server.stop()
    await close_connections()
