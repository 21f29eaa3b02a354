/** "1 entry", "2 entries", "1,024 entries": a count with its noun, never "1 entries". */
export const countOf = (n: number, one: string, many: string): string => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
