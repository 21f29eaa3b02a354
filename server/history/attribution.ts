/**
 * Who wrote what. Each Yjs clientID belongs to the user whose connection first wrote with it; an
 * update that creates structs under a clientID that belongs to someone else is refused. So every
 * struct in the document, and every record in the log, has a provable author.
 */
import * as Y from 'yjs';

export interface UpdateContents {
  /** Client IDs under which the update creates structs. */
  clients: Set<number>;
  /** Whether it changes anything at all (structs or deletions). */
  empty: boolean;
  /** The decoded update, for further checks that would otherwise decode it again. */
  decoded: { structs: Array<Y.Item | Y.GC | Y.Skip>; ds: ReturnType<typeof Y.decodeUpdate>['ds'] };
}

/**
 * Decodes an update completely (structs and delete set), so a malformed one is caught here and never
 * reaches the document. Throws on malformed input.
 */
export function inspectUpdate(update: Uint8Array): UpdateContents {
  const { structs, ds } = Y.decodeUpdate(update);
  const clients = new Set<number>();
  for (const s of structs) if (!(s instanceof Y.Skip)) clients.add(s.id.client);
  return { clients, empty: structs.length === 0 && ds.clients.size === 0, decoded: { structs, ds } };
}

export class ClientBindings {
  constructor(readonly byClient: Map<number, string> = new Map()) {}

  bind(clients: Iterable<number>, userId: string): void {
    for (const c of clients) if (!this.byClient.has(c)) this.byClient.set(c, userId);
  }

  ownerOf(clientId: number): string | undefined {
    return this.byClient.get(clientId);
  }
}
