/**
 * The dashboard's one HTML page: the frame (banner, navigation, access-token form, live status, the
 * main region the script fills). No inline script or style: the CSP allows only this origin's files.
 */

export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>ElasticAI</title>
<link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/app.css">
<script src="/dashboard/app.js" defer></script>
</head>
<body>
<a id="skip-link" class="skip-link" href="#main">Skip to content</a>
<header class="top">
  <div class="brand">
    <h1>ElasticAI</h1>
    <p class="tagline">Predictive autoscaling: what the runtime decides, and why</p>
  </div>
  <nav aria-label="Sections">
    <ul>
      <li><a id="nav-workloads" href="#/">Workloads</a></li>
      <li><a id="nav-recommendations" href="#/recommendations">Recommendations</a></li>
    </ul>
  </nav>
</header>
<aside class="side" aria-label="Access and live updates">
  <section class="access" aria-labelledby="access-title">
    <h2 id="access-title">Access token</h2>
    <form id="credentials">
      <div class="field">
        <label for="token">API key or Kubernetes token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" aria-describedby="auth-state">
      </div>
      <div class="field check">
        <input id="remember" name="remember" type="checkbox">
        <label for="remember">Keep for this browser tab</label>
      </div>
      <div class="actions">
        <button type="submit" id="use-token">Use token</button>
        <button type="button" id="forget">Forget token</button>
      </div>
    </form>
    <p id="auth-state" role="status"></p>
  </section>
  <div class="live">
    <p id="live" role="status" data-state="connecting">Live updates: starting…</p>
    <p id="last-event"></p>
  </div>
</aside>
<main id="main" tabindex="-1">
  <div id="view"><p>Loading…</p></div>
  <noscript><p>The dashboard needs JavaScript. The same data is in the JSON API under /api/v1/.</p></noscript>
</main>
</body>
</html>
`;

/** The tab icon: three rising bars. */
export const DASHBOARD_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0f2740"/><rect x="3" y="9" width="2.5" height="4" fill="#ffffff"/><rect x="6.75" y="6" width="2.5" height="7" fill="#ffffff"/><rect x="10.5" y="3" width="2.5" height="10" fill="#f5b841"/></svg>
`;
