/**
 * `map`'s value for `key` (made if missing), now its most recently used: a Map keeps insertion order,
 * so re-inserting moves it last, and past `max` entries the first ones — least recently used — go.
 */
export function useMostRecent<K, V>(map: Map<K, V>, key: K, make: () => V, max: number): V {
  const value = map.get(key) ?? make();
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
  return value;
}
