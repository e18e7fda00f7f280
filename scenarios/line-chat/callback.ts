/**
 * line-chat, callback style: a `LineOnlyReceiver` per client and a `Factory` that holds the
 * room (the set of connected clients); every line received is framed once (line + `"\n"`) and
 * written to every client, the sender included.
 *
 * @module
 */

import { Factory, LineOnlyReceiver } from "wirelab";
import type { Address, ListeningPort, Reactor } from "wirelab";
import { CHAT_MAX_LINE_LENGTH } from "./chat-line.js";

/** One chat client: joins the room when connected, broadcasts each line, leaves when gone. */
export class ChatProtocol extends LineOnlyReceiver {
  override delimiter = "\n";
  override MAX_LENGTH = CHAT_MAX_LINE_LENGTH;

  /** @param room - the factory whose room this client joins. */
  constructor(private readonly room: ChatFactory) {
    super();
  }

  override connectionMade(): void {
    // Several lines per socket in flight: with Nagle on, delayed ACKs would add 40 ms.
    this.transport.setTcpNoDelay(true);
    this.room.clients.add(this);
  }

  override lineReceived(line: Buffer): void {
    // One buffer for every recipient: the broadcast is framed once, not once per client.
    const out = Buffer.allocUnsafe(line.length + 1);
    line.copy(out);
    out[line.length] = 0x0a;
    for (const client of this.room.clients) client.transport.write(out);
  }

  override connectionLost(reason: Error): void {
    this.room.clients.delete(this);
    super.connectionLost(reason);
  }
}

/** The chat factory: builds {@link ChatProtocol}s and holds the room they share. */
export class ChatFactory extends Factory<ChatProtocol> {
  /** The connected clients, in the order they joined. */
  readonly clients = new Set<ChatProtocol>();

  override buildProtocol(_addr: Address): ChatProtocol {
    return new ChatProtocol(this);
  }
}

/**
 * Listens with one chat room: the callback style's `listen`.
 * @param reactor - the reactor (a `NodeReactor`, or a `SimNetwork` host).
 * @param endpoint - where to listen.
 * @returns the listening port.
 */
export function listenChat(reactor: Reactor, endpoint: string): PromiseLike<ListeningPort> {
  return reactor.listen(endpoint, new ChatFactory());
}
