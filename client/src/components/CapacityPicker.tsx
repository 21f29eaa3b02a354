/**
 * The link capacity a capture's bursts are measured against: 1, 10, 25, 40 or 100 Gbit/s, or any
 * other. Chosen per capture and remembered in this browser (the server recomputes the bursts for it:
 * `GET /api/attachments/:id/analysis?capacityBps=`).
 */
import { useState, type FormEvent } from 'react';

import './CapacityPicker.css';

const PRESETS_GBPS = [1, 10, 25, 40, 100];
const KEY = 'bridgelog:capacity:';

/** The capacity chosen for this capture (bits/s), or undefined for the server's default (1 Gbit/s). */
export function useCapacity(captureId: string): [number | undefined, (bps: number) => void] {
  const [bps, setBps] = useState<number | undefined>(() => {
    const kept = Number(localStorage.getItem(KEY + captureId));
    return Number.isFinite(kept) && kept > 0 ? kept : undefined;
  });
  const choose = (next: number) => {
    localStorage.setItem(KEY + captureId, String(next));
    setBps(next);
  };
  return [bps, choose];
}

const gbps = (bps: number) => bps / 1e9;

export function CapacityPicker({ bps, onChange }: { bps: number; onChange: (bps: number) => void }) {
  const preset = PRESETS_GBPS.includes(gbps(bps));
  const [custom, setCustom] = useState(!preset);
  const [error, setError] = useState<string>();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const text = String(new FormData(event.currentTarget).get('gbps') ?? '').trim().replace(',', '.');
    const value = Number(text);
    if (!text || !Number.isFinite(value) || value <= 0 || value > 10_000) return setError('a capacity in Gbit/s, e.g. 2.5');
    setError(undefined);
    onChange(Math.round(value * 1e9));
  };
  return (
    <div className="capacity-picker">
      <label>
        Link capacity
        <select
          aria-label="Link capacity"
          value={custom ? 'custom' : String(gbps(bps))}
          onChange={(e) => {
            if (e.target.value === 'custom') return setCustom(true);
            setCustom(false);
            onChange(Number(e.target.value) * 1e9);
          }}
        >
          {PRESETS_GBPS.map((g) => (
            <option key={g} value={String(g)}>{g} Gbit/s</option>
          ))}
          <option value="custom">other…</option>
        </select>
      </label>
      {custom && (
        <form className="capacity-custom" onSubmit={submit} aria-label="Other link capacity">
          <input name="gbps" inputMode="decimal" aria-label="Capacity in Gbit/s" defaultValue={preset ? '' : String(gbps(bps))} placeholder="Gbit/s" size={6} aria-invalid={error ? true : undefined} />
          <button type="submit" className="quiet small">Set</button>
          {error && <span className="error-text" role="alert">{error}</span>}
        </form>
      )}
    </div>
  );
}
