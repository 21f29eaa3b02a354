/**
 * Who is on the incident and which entry each is editing, from y-websocket awareness. The server
 * stamps every remote state's `user.id` and `user.name` with the authenticated user, so the names
 * shown here (and on remote cursors) cannot be made up by another client.
 */
import type { Awareness } from 'y-protocols/awareness';
import type { User } from '../../../shared/model';
import { Store } from '../store';

export interface Person {
  id: string;
  name: string;
  color: string;
  /** Ids of the entries they are editing (in any of their tabs). */
  editing: string[];
  self: boolean;
}

export interface Presence {
  people: Person[];
  /** Entry id → the other people editing it. */
  editing: ReadonlyMap<string, Person[]>;
}

interface AwarenessState {
  user?: { id?: unknown; name?: unknown; color?: unknown };
  editing?: unknown;
}

const PALETTE = ['#e0728a', '#e8a04c', '#c9b843', '#6cc08b', '#4fb8c7', '#6d9eeb', '#a78bdb', '#d77fc4'];

/** A steady color per user, so a person's cursor looks the same on every screen. */
export function colorOf(userId: string): string {
  let hash = 0;
  for (const ch of userId) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return PALETTE[Math.abs(hash) % PALETTE.length]!;
}

/** Says who this browser is (the server rewrites the name to the authenticated one anyway). */
export function announce(awareness: Awareness, user: User): void {
  const color = colorOf(user.id);
  awareness.setLocalState({ user: { name: user.name, color, colorLight: `${color}33` }, editing: null });
}

export function setEditing(awareness: Awareness, entryId: string | null): void {
  awareness.setLocalStateField('editing', entryId);
}

function read(awareness: Awareness, me: User): Presence {
  const byUser = new Map<string, Person>();
  for (const [clientId, raw] of awareness.getStates()) {
    const state = raw as AwarenessState;
    const local = clientId === awareness.clientID;
    const id = local ? me.id : typeof state.user?.id === 'string' ? state.user.id : undefined;
    if (id === undefined) continue;
    const person = byUser.get(id) ?? {
      id,
      name: local ? me.name : String(state.user?.name ?? id),
      color: colorOf(id),
      editing: [],
      self: id === me.id,
    };
    if (typeof state.editing === 'string' && !person.editing.includes(state.editing)) person.editing.push(state.editing);
    byUser.set(id, person);
  }
  const people = [...byUser.values()].sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
  const editing = new Map<string, Person[]>();
  for (const person of people) {
    if (person.self) continue;
    for (const entryId of person.editing) editing.set(entryId, [...(editing.get(entryId) ?? []), person]);
  }
  return { people, editing };
}

const key = (p: Presence) => p.people.map((x) => `${x.id}:${x.name}:${x.editing.join(',')}`).join('|');

export function watchPresence(awareness: Awareness, me: User): { presence: Store<Presence>; stop: () => void } {
  const presence = new Store<Presence>(read(awareness, me), (a, b) => key(a) === key(b));
  // Cursor moves change awareness too; the store only wakes its readers when people or editing change.
  const onChange = () => presence.set(read(awareness, me));
  awareness.on('change', onChange);
  return { presence, stop: () => awareness.off('change', onChange) };
}
