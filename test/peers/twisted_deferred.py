#!/usr/bin/python3
"""Twisted peer for wirelab's Deferred differential test (test helper, not part of wirelab).

Reads Deferred programs, one JSON document per line on stdin, runs each on Twisted's own
Deferred, DeferredList, gatherResults and task.Clock, and writes one JSON line per program on
stdout: the list of trace events. test/runtime/deferred-programs.ts defines the program format
and runs the same programs on wirelab; the two traces are compared by
test/runtime/deferred-twisted.integration.test.ts.

Program: {"cancellers": [KIND, ...], "ops": [OP, ...]}
  KIND: "none" (no canceller), "noop", "value" (callback(77)), "error" (errback(E(88))),
        "throw" (raises E(99)).
  OP:   ["add", REF, HOW, ACTION] or ["add", REF, "callbacks", ACTION, ACTION]
        HOW is "callback", "errback" or "both".
        ["fire", REF, OK, N], ["cancel", REF], ["pause", REF], ["unpause", REF],
        ["list", [REF, ...], FIRE_ON_ONE_CALLBACK, FIRE_ON_ONE_ERRBACK, CONSUME_ERRORS],
        ["gather", [REF, ...], CONSUME_ERRORS], ["succeed", N], ["fail", N],
        ["timeout", REF, T], ["advance", T], ["chain", REF, REF]
  ACTION: [EFFECT, RESULT], EFFECT null or ["fire", REF, OK, N], ["cancel", REF],
        ["pause", REF], ["unpause", REF]; RESULT ["value", N], ["throw", N], ["return", REF],
        ["pass"] (hand the input on: a value stays a value, a failure stays a failure).
  REF is taken modulo the number of Deferreds that exist when it is used.
Time is in the clock's units on both sides (seconds here, milliseconds there).

A program that runs longer than HANG_SECONDS gives the trace ["hang"], and the peer exits with
status 3: the caller starts it again with the programs that follow. (A cancellation that comes
back around, such as a DeferredList member waiting on its own list, makes Twisted recurse until
RecursionError, and DeferredList.cancel logs that error at every level of the recursion, which
takes minutes; the runaway cannot be interrupted and resumed.)
"""

import json
import os
import signal
import sys

from twisted.internet import defer, task
from twisted.python.failure import Failure


HANG_SECONDS = 2.0


def on_alarm(signum, frame):
    # Nothing that could recurse: the program may be deep in a runaway recursion.
    os.write(1, b'["hang"]\n')
    os._exit(3)


class E(Exception):
    """The program's own errors, told apart by their tag."""

    def __init__(self, tag):
        super().__init__(tag)
        self.tag = tag


def describe(value):
    if isinstance(value, Failure):
        return describe(value.value)
    if isinstance(value, defer.FirstError):
        return "First(%d,%s)" % (value.index, describe(value.subFailure))
    if isinstance(value, E):
        return "E%d" % value.tag
    if isinstance(value, defer.CancelledError):
        return "Cancelled"
    if isinstance(value, defer.TimeoutError):
        return "Timeout"
    if isinstance(value, defer.AlreadyCalledError):
        return "AlreadyCalled"
    if isinstance(value, BaseException):
        return type(value).__name__
    if value is None:
        return "None"
    if value is True:
        return "T"
    if value is False:
        return "F"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(describe(v) for v in value) + "]"
    if isinstance(value, defer.Deferred):
        return "Deferred"
    return type(value).__name__


class Run:
    def __init__(self, program):
        self.trace = []
        self.clock = task.Clock()
        self.ds = []
        self.next_id = 0
        for kind in program["cancellers"]:
            self.ds.append(defer.Deferred(self.canceller(kind)))
        self.ops = program["ops"]

    def canceller(self, kind):
        if kind == "none":
            return None
        if kind == "noop":
            return lambda d: None
        if kind == "value":
            return lambda d: d.callback(77)
        if kind == "error":
            return lambda d: d.errback(E(88))

        def throw(d):
            raise E(99)

        return throw

    def ref(self, r):
        return self.ds[r % len(self.ds)]

    def step(self, cid, branch, action):
        effect, result = action

        def run(value):
            self.trace.append("cb%d:%s(%s)" % (cid, branch, describe(value)))
            if effect is not None:
                try:
                    self.effect(effect)
                except BaseException as e:
                    self.trace.append("cb%d!%s" % (cid, describe(e)))
            kind = result[0]
            if kind == "value":
                return result[1]
            if kind == "throw":
                raise E(result[1])
            if kind == "return":
                return self.ref(result[1])
            return value

        return run

    def effect(self, effect):
        kind = effect[0]
        d = self.ref(effect[1])
        if kind == "fire":
            if effect[2]:
                d.callback(effect[3])
            else:
                d.errback(E(effect[3]))
        elif kind == "cancel":
            d.cancel()
        elif kind == "pause":
            d.pause()
        elif kind == "unpause":
            d.unpause()

    def op(self, op):
        kind = op[0]
        if kind == "add":
            d = self.ref(op[1])
            cid = self.next_id
            self.next_id += 1
            how = op[2]
            if how == "callback":
                d.addCallback(self.step(cid, "s", op[3]))
            elif how == "errback":
                d.addErrback(self.step(cid, "f", op[3]))
            elif how == "both":
                d.addBoth(self.step(cid, "b", op[3]))
            else:
                d.addCallbacks(self.step(cid, "s", op[3]), self.step(cid, "f", op[4]))
        elif kind in ("fire", "cancel", "pause", "unpause"):
            self.effect(op)
        elif kind == "list":
            members = [self.ref(r) for r in op[1]]
            self.ds.append(defer.DeferredList(members, fireOnOneCallback=op[2], fireOnOneErrback=op[3], consumeErrors=op[4]))
        elif kind == "gather":
            self.ds.append(defer.gatherResults([self.ref(r) for r in op[1]], consumeErrors=op[2]))
        elif kind == "succeed":
            self.ds.append(defer.succeed(op[1]))
        elif kind == "fail":
            self.ds.append(defer.fail(E(op[1])))
        elif kind == "timeout":
            self.ref(op[1]).addTimeout(op[2], self.clock)
        elif kind == "advance":
            self.clock.advance(op[1])
        elif kind == "chain":
            self.ref(op[1]).chainDeferred(self.ref(op[2]))

    def run(self):
        for n, op in enumerate(self.ops):
            try:
                self.op(op)
            except BaseException as e:
                self.trace.append("op%d!%s" % (n, describe(e)))
        # The end state of every Deferred: fired or not, paused or not, then what it carries.
        for i, d in enumerate(self.ds):
            self.trace.append("d%d:%s%s" % (i, "called" if d.called else "waiting", ",paused" if d.paused else ""))
        for i, d in enumerate(self.ds):
            seen = []
            d.addCallbacks(lambda v: seen.append("ok:" + describe(v)), lambda f: seen.append("err:" + describe(f)))
            self.trace.append("end%d:%s" % (i, seen[0] if seen else "pending"))
        return self.trace


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
        trace = Run(json.loads(line)).run()
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout.write(json.dumps(trace) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
