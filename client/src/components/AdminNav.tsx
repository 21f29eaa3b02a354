/** The admin area's sections, one link each: users and invites, alert integrations, notifications. */
import { Link, usePath } from '../router';

const SECTIONS = [
  { to: '/admin/users', label: 'Users', also: '/admin' },
  { to: '/admin/integrations', label: 'Alert integrations' },
  { to: '/notifications', label: 'Notifications' },
];

export function AdminNav() {
  const path = usePath();
  return (
    <nav className="admin-nav" aria-label="Administration">
      {SECTIONS.map((s) => (
        <Link key={s.to} to={s.to} aria-current={path === s.to || path === s.also ? 'page' : undefined}>
          {s.label}
        </Link>
      ))}
    </nav>
  );
}
