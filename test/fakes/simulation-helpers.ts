import { Factory, Protocol } from "../../runtime/protocol.js";

export const dec = new TextDecoder();

/** Records what a protocol hears. */
export class Recorder extends Protocol {
  events: string[] = [];
  chunks: Uint8Array[] = [];
  reason: Error | null = null;
  madeAt = -1;
  override connectionMade(): void {
    this.events.push("made");
  }
  override dataReceived(data: Uint8Array): void {
    this.chunks.push(data);
  }
  override connectionLost(reason: Error): void {
    this.reason = reason;
    this.events.push(`lost:${reason.constructor.name}`);
  }
  text(): string {
    return this.chunks.map((c) => dec.decode(c)).join("");
  }
}

/** Echoes everything back. */
export class Echo extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

/** A half-close aware recorder. */
export class HalfCloser extends Recorder {
  override readConnectionLost(): void {
    this.events.push("readLost");
  }
}

export function echoFactory(servers: Echo[] = []): Factory<Echo> {
  return Factory.forProtocol(() => {
    const p = new Echo();
    servers.push(p);
    return p;
  });
}

export function recorderFactory<P extends Recorder>(make: () => P, made: P[] = []): Factory<P> {
  return Factory.forProtocol(() => {
    const p = make();
    made.push(p);
    return p;
  });
}
