/**
 * The dashboard's files as the API server serves them: redirects to the page, content types, the
 * Content-Security-Policy and other headers, no reference to any other origin, no credentials needed
 * for the files themselves, and the script bundle's rules (only named function declarations, no
 * duplicates, an entry point) checked by `bundleScript` and by compiling the result.
 */
import assert from 'node:assert/strict';
import { Script } from 'node:vm';
import { describe, it } from 'node:test';
import {
  DASHBOARD_ASSETS,
  DASHBOARD_SCRIPT,
  bundleScript,
} from '../../../../runtime/service/dashboard/assets.js';
import { createApiServer } from '../../../../runtime/service/http/api-server.js';
import { deps } from '../http/support.js';

describe('dashboard files', () => {
  it('redirects / and /dashboard to the page, which is served without credentials even when reads need them', async () => {
    // GIVEN a server whose reads need a caller
    const app = createApiServer(await deps({ config: { readAccess: 'authenticated' } }));
    for (const url of ['/', '/dashboard']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 302, url);
      assert.equal(res.headers.location, '/dashboard/');
    }
    const page = await app.inject({ method: 'GET', url: '/dashboard/' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(page.body, /^<!doctype html>\n<html lang="en">/);
    // while the data still needs them
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/workloads' })).statusCode, 401);
  });

  it('sends a CSP that allows only this origin’s script and style, with no inline code, and framing refused', async () => {
    const app = createApiServer(await deps());
    const res = await app.inject({ method: 'GET', url: '/dashboard/' });
    const csp = String(res.headers['content-security-policy']);
    const directives = new Map(
      csp.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name as string, values.join(' ')];
      }),
    );
    assert.equal(directives.get('default-src'), "'none'");
    assert.equal(directives.get('script-src'), "'self'");
    assert.equal(directives.get('style-src'), "'self'");
    assert.equal(directives.get('connect-src'), "'self'");
    assert.equal(directives.get('frame-ancestors'), "'none'");
    assert.equal(directives.get('require-trusted-types-for'), "'script'");
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    // and the page has no inline script, style or event handler for the CSP to refuse
    assert.doesNotMatch(res.body, /<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
  });

  it('serves every file the page refers to, each with its type, and none refers to another origin', async () => {
    const app = createApiServer(await deps());
    const page = (await app.inject({ method: 'GET', url: '/dashboard/' })).body;
    const referenced = [...page.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1] as string);
    assert.deepEqual(referenced.sort(), [
      '/dashboard/app.css',
      '/dashboard/app.js',
      '/dashboard/favicon.svg',
    ]);
    const types: Record<string, string> = {
      '/dashboard/app.css': 'text/css; charset=utf-8',
      '/dashboard/app.js': 'text/javascript; charset=utf-8',
      '/dashboard/favicon.svg': 'image/svg+xml',
    };
    for (const url of referenced) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-type'], types[url], url);
      assert.equal(res.body, DASHBOARD_ASSETS.get(url)?.body);
    }
    // No URL of another origin anywhere (the SVG namespace is a name, not a fetch)
    for (const [path, asset] of DASHBOARD_ASSETS) {
      const urls = [...asset.body.matchAll(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi)].map(
        (m) => m[0],
      );
      assert.deepEqual(
        urls.filter((u) => u !== 'http://www.w3.org/2000/svg'),
        [],
        path,
      );
      assert.doesNotMatch(asset.body, /@import|url\(/, path);
    }
  });

  it('bundles the browser modules into one script that compiles and starts the dashboard', () => {
    // The bundle is valid JavaScript (compiled, not run) and calls the entry point with the window
    assert.doesNotThrow(() => new Script(DASHBOARD_SCRIPT, { filename: 'app.js' }));
    assert.match(DASHBOARD_SCRIPT, /\nstartDashboard\(window\);\n\}\)\(\);\n/);
    for (const name of [
      'parseEventStream',
      'chartModel',
      'renderChart',
      'formatTime',
      'el',
      'fillWorkloadRow',
    ]) {
      assert.match(DASHBOARD_SCRIPT, new RegExp(`\\nfunction ${name}\\(`), name);
    }
    // and it holds no module syntax a classic script could not run
    assert.doesNotMatch(DASHBOARD_SCRIPT, /^\s*(import|export)\s/m);
  });

  it('refuses exports a concatenated script could not run: values, arrow functions, duplicates, no entry', () => {
    function start(): void {}
    function helper(): number {
      return 1;
    }
    assert.throws(() => bundleScript([{ start, LIMIT: 3 }], 'start'), /export LIMIT is not a function/);
    assert.throws(
      () => bundleScript([{ start, arrow: () => 1 }], 'start'),
      /export arrow must be a function declaration named arrow/,
    );
    assert.throws(() => bundleScript([{ start, helper }, { helper }], 'start'), /helper is exported twice/);
    assert.throws(() => bundleScript([{ helper }], 'start'), /no entry function start/);
    const script = bundleScript([{ helper }, { start }], 'start');
    assert.match(script, /function helper\(\) \{[\s\S]*function start\(\) \{ \}\n\nstart\(window\);/);
  });
});
