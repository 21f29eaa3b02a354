/**
 * The incidents this user may see, kept current by the server's app events (socket.io): an incident
 * someone opens appears without a reload. The list is fetched at once, and again whenever the socket
 * (re)connects, since events sent while it was not connected are lost.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Incident } from '../../shared/model';
import { ServerEvent } from '../../shared/events';
import { api } from './api';
import { connectAppEvents } from './app-events';

export function useLiveIncidents() {
  const [byId, setById] = useState(new Map<string, Incident>());
  const [error, setError] = useState<string>();
  const put = useCallback((incident: Incident) => setById((prev) => new Map(prev).set(incident.id, incident)), []);

  useEffect(() => {
    const socket = connectAppEvents();
    // Events that arrive while a fetch is under way are newer than its answer: they are applied on top.
    const fetches = new Set<Incident[]>();
    const arrive = (incident: Incident) => {
      for (const arrived of fetches) arrived.push(incident);
      put(incident);
    };
    const load = async () => {
      const arrived: Incident[] = [];
      fetches.add(arrived);
      try {
        const list = await api<Incident[]>('GET', '/api/incidents');
        const next = new Map(list.map((incident) => [incident.id, incident]));
        for (const incident of arrived) next.set(incident.id, incident);
        setById(next);
        setError(undefined);
      } catch (err) {
        setError((err as Error).message);
      } finally {
        fetches.delete(arrived);
      }
    };
    socket.on(ServerEvent.incidentCreated, arrive);
    socket.on(ServerEvent.incidentUpdated, arrive);
    socket.on(ServerEvent.incidentGone, ({ id }) =>
      setById((prev) => {
        const next = new Map(prev);
        next.delete(id);
        return next;
      }),
    );
    socket.on('connect', load);
    void load();
    return () => {
      socket.disconnect();
    };
  }, [put]);

  const incidents = [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { incidents, error, put };
}
