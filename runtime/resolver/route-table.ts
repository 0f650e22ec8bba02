/**
 * Host (and path prefix) → route. Hosts compare case-insensitively without their port or a trailing
 * dot; `*.example.com` matches exactly one more label (as Ingress wildcards do). Among the routes of a
 * host the longest matching path prefix wins, and prefixes match whole segments (`/api` matches `/api`
 * and `/api/v1`, never `/apix`).
 */
import type { Route } from './config.js';

/** The host part of a Host header or `:authority` (no port, lowercase, no trailing dot). */
export function hostOf(authority: string | undefined): string | undefined {
  if (authority === undefined) return undefined;
  let host = authority.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end < 0 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host === '' ? undefined : host;
}

function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  const next = path.charCodeAt(prefix.length);
  // End of path, '/' or the start of a query.
  return Number.isNaN(next) || next === 47 || next === 63;
}

export class RouteTable {
  private readonly exact = new Map<string, Route[]>();
  private readonly wildcard = new Map<string, Route[]>();

  constructor(readonly routes: readonly Route[]) {
    for (const route of routes) {
      for (const host of route.hosts) {
        const [map, key] = host.startsWith('*.') ? [this.wildcard, host.slice(2)] : [this.exact, host];
        const list = map.get(key) ?? [];
        list.push(route);
        // Longest prefix first.
        list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
        map.set(key, list);
      }
    }
  }

  /** The route for a request, or undefined. `path` may carry a query string. */
  match(authority: string | undefined, path: string): Route | undefined {
    const host = hostOf(authority);
    if (host === undefined) return undefined;
    const exact = this.exact.get(host)?.find((r) => prefixMatches(r.pathPrefix, path));
    if (exact) return exact;
    const dot = host.indexOf('.');
    if (dot < 0) return undefined;
    return this.wildcard.get(host.slice(dot + 1))?.find((r) => prefixMatches(r.pathPrefix, path));
  }
}
