throw new Error("left out of the Artillery test install (test/artillery): @opentelemetry/semantic-conventions");
