/** Sizes and rates as responders read them: binary units for files, Mbit/s for links. */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** Bytes in a bucket of `bucketMs` as a rate: the same scale whatever the bucket. */
export const mbitPerSecond = (bytes: number, bucketMs: number): number => (bytes * 8) / (bucketMs * 1000);

export const formatMbps = (mbps: number): string => `${mbps.toLocaleString('en', { maximumFractionDigits: mbps < 10 ? 2 : 0 })} Mbit/s`;
