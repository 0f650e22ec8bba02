/**
 * Text of numbers and times on the dashboard. Runs in the browser (bundled by ../assets.ts: every
 * export is a self-contained function) and in Node's tests. Times are shown in UTC, so every viewer of
 * a workload reads the same minute as the API's epoch seconds and the runtime's logs.
 */

/** `—` for a missing value; whole numbers as they are; others with one decimal (two below 1). */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) < 1 ? value.toFixed(2) : value.toFixed(1);
}

/** Epoch seconds as `YYYY-MM-DD HH:MM UTC` (`HH:MM:SS` when the seconds are not zero). */
export function formatTime(epochSeconds: number | null | undefined): string {
  if (epochSeconds === null || epochSeconds === undefined || !Number.isFinite(epochSeconds)) return '—';
  const iso = new Date(epochSeconds * 1000).toISOString();
  const seconds = iso.slice(17, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds === '00' ? 16 : 19)} UTC`;
}

/** Epoch seconds as `HH:MM` (UTC), for chart ticks; with the day (`MM-DD HH:MM`) when `withDay`. */
export function formatClock(epochSeconds: number, withDay: boolean): string {
  const iso = new Date(epochSeconds * 1000).toISOString();
  return withDay ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

/** A duration in seconds for people: `45 s`, `15 min`, `2 h`, `1 h 30 min`, `3 d`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  const d = Math.floor(s / 86_400);
  const h = Math.round((s % 86_400) / 3600);
  return h === 0 ? `${d} d` : `${d} d ${h} h`;
}

/** A score or weight in [0, 1] with two decimals; `—` when missing (a model not back-tested yet). */
export function formatScore(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(2);
}

/** CPU cores as Kubernetes writes them: `250m`, `2`. */
export function formatCores(cores: number | null | undefined): string {
  if (cores === null || cores === undefined || !Number.isFinite(cores)) return '—';
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes in binary units: `512Mi`, `1.5Gi`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  const mi = bytes / (1024 * 1024);
  if (mi >= 1024) return `${Math.round((mi / 1024) * 10) / 10}Gi`;
  return `${Math.round(mi)}Mi`;
}
