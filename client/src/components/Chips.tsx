/** A row of on/off choices (statuses, severities) that reads as a filter: any number on, none meaning all. */
export function Chips<T extends string>({ legend, name, values, chosen, onChange }: { legend: string; name: string; values: readonly T[]; chosen: readonly T[] | undefined; onChange: (next: T[]) => void }) {
  const set = new Set(chosen ?? []);
  return (
    <fieldset className="chips">
      <legend>{legend}</legend>
      {values.map((value) => (
        <label key={value} className={set.has(value) ? 'chip on' : 'chip'}>
          <input
            type="checkbox"
            name={name}
            value={value}
            checked={set.has(value)}
            onChange={(e) => {
              const next = new Set(set);
              if (e.target.checked) next.add(value);
              else next.delete(value);
              onChange(values.filter((v) => next.has(v)));
            }}
          />
          {value}
        </label>
      ))}
    </fieldset>
  );
}
