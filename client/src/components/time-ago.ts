/** A UTC time as the admin pages show it: `2026-03-04 06:12 UTC`; a dash for none. */
export const utcMinute = (iso: string | undefined | null) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '—');
