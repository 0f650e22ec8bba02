/**
 * The dashboard's files, built into the runtime's compiled JavaScript (the image holds no other files):
 * the page, the stylesheet, the icon and the script. The script is the browser modules' exported
 * functions, each taken as the source tsc compiled (`Function.prototype.toString`), concatenated in one
 * strict-mode closure that calls `startDashboard(window)`. So the browser code is type-checked with the
 * rest of the runtime and its pure parts are tested in Node, with no bundler and no second build step.
 */
import * as app from './browser/app.js';
import * as chart from './browser/chart.js';
import * as format from './browser/format.js';
import * as sse from './browser/sse.js';
import { DASHBOARD_ICON, DASHBOARD_PAGE } from './page.js';
import { DASHBOARD_STYLES } from './styles.js';

export interface DashboardAsset {
  readonly contentType: string;
  readonly body: string;
}

/**
 * One script from the exported functions of `modules`, ending with a call of `entry(window)`. Throws
 * when two modules export the same name, when an export is not a named function declaration (a const
 * or an arrow function would not survive the concatenation), or when `entry` is missing.
 */
export function bundleScript(modules: Readonly<Record<string, unknown>>[], entry: string): string {
  const seen = new Set<string>();
  const sources: string[] = [];
  for (const module of modules) {
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== 'function') {
        throw new Error(
          `dashboard bundle: export ${name} is not a function; browser modules export only functions`,
        );
      }
      const source = Function.prototype.toString.call(value);
      if (!new RegExp(`^(async\\s+)?function\\s+${name}\\s*\\(`).test(source)) {
        throw new Error(`dashboard bundle: export ${name} must be a function declaration named ${name}`);
      }
      if (seen.has(name)) throw new Error(`dashboard bundle: ${name} is exported twice`);
      seen.add(name);
      sources.push(source);
    }
  }
  if (!seen.has(entry)) throw new Error(`dashboard bundle: no entry function ${entry}`);
  return `(function () {\n'use strict';\n${sources.join('\n\n')}\n\n${entry}(window);\n})();\n//# sourceURL=elasticai-dashboard.js\n`;
}

/** The dashboard's script. */
export const DASHBOARD_SCRIPT = bundleScript([format, sse, chart, app], 'startDashboard');

/**
 * Sent with every dashboard file. Only this origin's script and style run (no inline code, no other
 * origin: `connect-src 'self'` also keeps the token from being sent anywhere else); Trusted Types with
 * no policy makes the browser refuse any HTML-string sink, so API values can only ever become text.
 */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** The files by path. `/dashboard/` is the page; `/` and `/dashboard` redirect to it. */
export const DASHBOARD_ASSETS: ReadonlyMap<string, DashboardAsset> = new Map([
  ['/dashboard/', { contentType: 'text/html; charset=utf-8', body: DASHBOARD_PAGE }],
  ['/dashboard/app.js', { contentType: 'text/javascript; charset=utf-8', body: DASHBOARD_SCRIPT }],
  ['/dashboard/app.css', { contentType: 'text/css; charset=utf-8', body: DASHBOARD_STYLES }],
  ['/dashboard/favicon.svg', { contentType: 'image/svg+xml', body: DASHBOARD_ICON }],
]);
