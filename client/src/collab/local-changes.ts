/**
 * What this browser wrote to an incident that the server has not yet said is on its disk.
 *
 * A page writes under its document's client ID, and a reloaded page gets a new one, while changes
 * made under the old one may still wait in IndexedDB. So the client IDs this browser wrote with,
 * and the last durable state vector the server announced for them, are kept in localStorage, per
 * user and incident. A change is unsaved while its client's clock is ahead of the durable one.
 */
import * as Y from 'yjs';
import { entriesOf, hypothesesOf } from '../../../shared/schema/doc';

interface Kept {
  clients: number[];
  durable: Record<string, number>;
}

export interface Unsaved {
  /** Anything at all not yet durable. */
  any: boolean;
  /** The things it touches: `entry:<id>`, `hypothesis:<id>`, `meta`. */
  things: Set<string>;
}

/** The top-level thing an item belongs to, in the words shown to the user. */
export function thingOf(doc: Y.Doc, item: Y.Item): string {
  let top = item;
  while ((top.parent as Y.AbstractType<unknown>)._item) top = (top.parent as Y.AbstractType<unknown>)._item!;
  if (top.parent === entriesOf(doc)) return `entry:${top.parentSub}`;
  if (top.parent === hypothesesOf(doc)) return `hypothesis:${top.parentSub}`;
  return 'meta';
}

export class LocalChanges {
  readonly clients = new Set<number>();
  private readonly durable = new Map<number, number>();

  constructor(private readonly key: string) {
    try {
      const kept = JSON.parse(localStorage.getItem(key) ?? 'null') as Kept | null;
      for (const c of kept?.clients ?? []) this.clients.add(c);
      for (const [c, clock] of Object.entries(kept?.durable ?? {})) this.durable.set(Number(c), clock);
    } catch {
      // Unreadable: start afresh; the server still has everything it acknowledged.
    }
  }

  /** Starts counting `clientId` as this browser's, and forgets past ones with nothing left unsaved. */
  adopt(doc: Y.Doc): void {
    this.clients.add(doc.clientID);
    this.forgetSaved(doc);
  }

  /** The server's durable state vector (message type 100). */
  setDurable(doc: Y.Doc, durable: Map<number, number>): void {
    for (const c of this.clients) {
      const clock = durable.get(c);
      if (clock !== undefined && clock > (this.durable.get(c) ?? 0)) this.durable.set(c, clock);
    }
    this.forgetSaved(doc);
  }

  unsaved(doc: Y.Doc): Unsaved {
    const things = new Set<string>();
    let any = false;
    for (const c of this.clients) {
      const from = this.durable.get(c) ?? 0;
      if (Y.getState(doc.store, c) <= from) continue;
      any = true;
      const structs = doc.store.clients.get(c)!;
      for (let i = Y.findIndexSS(structs, from); i < structs.length; i++) {
        const struct = structs[i]!;
        if (struct instanceof Y.Item) things.add(thingOf(doc, struct));
      }
    }
    return { any, things };
  }

  private forgetSaved(doc: Y.Doc): void {
    for (const c of this.clients) {
      if (c !== doc.clientID && Y.getState(doc.store, c) <= (this.durable.get(c) ?? 0)) {
        this.clients.delete(c);
        this.durable.delete(c);
      }
    }
    const kept: Kept = { clients: [...this.clients], durable: Object.fromEntries(this.durable) };
    localStorage.setItem(this.key, JSON.stringify(kept));
  }
}
