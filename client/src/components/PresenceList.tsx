/** Who is on the incident right now (names as the server authenticated them). */
import type { Presence } from '../collab/presence';

export function PresenceList({ presence }: { presence: Presence }) {
  return (
    <ul className="presence" aria-label="On this incident">
      {presence.people.map((person) => (
        <li key={person.id} title={person.editing.length > 0 ? `${person.name} is editing` : `${person.name} is here`}>
          <span className="dot" style={{ background: person.color }} />
          {person.self ? `${person.name} (you)` : person.name}
          {person.editing.length > 0 && <span className="editing-mark"> ✎</span>}
        </li>
      ))}
    </ul>
  );
}
