/** A value that React components can watch (with `useStore`) and plain code can set. */
import { useSyncExternalStore } from 'react';

export class Store<T> {
  private readonly listeners = new Set<() => void>();

  constructor(
    private value: T,
    /** When a new value is the same as the old one, listeners are not woken. */
    private readonly same: (a: T, b: T) => boolean = Object.is,
  ) {}

  get = (): T => this.value;

  set(value: T): void {
    if (this.same(this.value, value)) return;
    this.value = value;
    for (const listener of this.listeners) listener();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export function useStore<T>(store: Store<T>): T {
  return useSyncExternalStore(store.subscribe, store.get);
}
