/**
 * Who may see and write what changes while sockets are open: a logout, a revoked token, a user
 * removed or given another role, an incident restricted to its members. Whatever makes such a change
 * announces it here; the collaboration endpoint and the app events then check their open sockets
 * again, exactly as at connection time, and close those that lost access.
 */
export interface AccessChange {
  /** Only this user's sockets are affected (a role change, a removal, their token or session). */
  userId?: string;
  /** Only sockets on this incident are affected (its members changed). */
  incidentId?: string;
}

type Listener = (change: AccessChange) => void;

export class AccessChanges {
  private readonly listeners: Listener[] = [];

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  changed(change: AccessChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
