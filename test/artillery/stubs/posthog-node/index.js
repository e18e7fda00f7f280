// Artillery sends a telemetry event on every run, even with ARTILLERY_DISABLE_TELEMETRY set, and
// waits for its retries (about 12 s) when the network is not there: the tests' install replaces
// its telemetry client with one that sends nothing.
"use strict";
class PostHog {
  capture() {}
  async shutdownAsync() {}
  shutdown() {}
}
module.exports = { PostHog };
