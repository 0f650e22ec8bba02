/**
 * The dashboard's stylesheet. Colours are chosen for WCAG AA contrast (text ≥ 4.5:1 on its background;
 * chart lines and focus rings ≥ 3:1 on white), and state is never shown by colour alone: every badge
 * and marker also has text.
 */

export const DASHBOARD_STYLES = `:root {
  --ink: #1a1a1a;
  --muted: #4a5160;
  --paper: #ffffff;
  --wash: #f3f5f8;
  --rule: #c9ced6;
  --brand: #0f2740;
  --link: #0b57d0;
  --focus: #b45309;
  --error: #a11a1a;
  --done: #1b5e20;
  --demand: #1d4ed8;
  --forecast: #b45309;
  --band: #f59e0b;
  --replicas: #15803d;
  --anomaly: #c81e1e;
  color-scheme: light;
}
* { box-sizing: border-box; }
body {
  margin: 0;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: var(--ink);
  background: var(--paper);
  display: grid;
  grid-template-columns: minmax(0, 1fr) 20rem;
  grid-template-areas: "top top" "main side";
}
a { color: var(--link); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip-link { position: absolute; left: -999px; top: 0; background: var(--paper); color: var(--link); padding: 0.5rem 1rem; z-index: 10; }
.skip-link:focus { left: 0.5rem; top: 0.5rem; }
.top { grid-area: top; display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 1rem; background: var(--brand); color: #ffffff; padding: 0.75rem 1.25rem; }
.top h1 { margin: 0; font-size: 1.4rem; }
.top .tagline { margin: 0; color: #dbe4ee; }
.top nav ul { list-style: none; display: flex; gap: 1.25rem; margin: 0; padding: 0; }
.top nav a { color: #ffffff; font-weight: 600; text-underline-offset: 4px; }
.top nav a[aria-current="page"] { text-decoration-thickness: 3px; }
.top :focus-visible { outline-color: #f5b841; }
main { grid-area: main; padding: 1rem 1.25rem 3rem; min-width: 0; }
main:focus { outline: none; }
.side { grid-area: side; padding: 1rem 1.25rem; background: var(--wash); border-left: 1px solid var(--rule); }
.side h2 { font-size: 1.05rem; margin: 0 0 0.5rem; }
h2 { font-size: 1.35rem; margin: 0.25rem 0 0.75rem; }
h3 { font-size: 1.1rem; margin: 1.75rem 0 0.5rem; }
.field { display: flex; flex-direction: column; gap: 0.25rem; margin: 0 0 0.75rem; }
.field.check { flex-direction: row; align-items: center; gap: 0.5rem; }
label { font-weight: 600; }
input[type="password"], input[type="number"], select {
  font: inherit; color: var(--ink); background: var(--paper);
  border: 1px solid #6b7280; border-radius: 4px; padding: 0.35rem 0.5rem; min-width: 10rem;
}
input[aria-invalid="true"] { border: 2px solid var(--error); }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.25rem 0 0.5rem; }
button {
  font: inherit; font-weight: 600; color: #ffffff; background: var(--link);
  border: 1px solid var(--link); border-radius: 4px; padding: 0.4rem 0.9rem; cursor: pointer;
}
button[type="button"] { color: var(--link); background: var(--paper); }
button:disabled { color: #4a5160; background: #e5e7eb; border-color: #9ca3af; cursor: not-allowed; }
.message:empty { display: none; }
.message { margin: 0.5rem 0; }
.error { color: var(--error); font-weight: 600; }
.done { color: var(--done); font-weight: 600; }
#live[data-state="on"]::before { content: "● "; color: var(--done); }
#live[data-state="off"] { color: var(--error); font-weight: 600; }
#last-event { color: var(--muted); font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: 0 0 0.4rem; color: var(--muted); }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
thead th { background: var(--wash); border-bottom: 2px solid #9aa3ae; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td:last-child, #chart-table th { white-space: nowrap; }
td.anomalous { color: var(--error); font-weight: 600; }
td.overridden { font-weight: 600; }
.badge { display: inline-block; padding: 0.05rem 0.45rem; border-radius: 999px; font-size: 0.88rem; font-weight: 600; border: 1px solid currentColor; }
.state-fresh { color: #14532d; background: #e6f4ea; }
.state-stale { color: #7a3e00; background: #fff4e5; }
.state-holding, .state-failed { color: #8a1c1c; background: #fde7e9; }
.state-backfilling { color: #1e3a8a; background: #e8eefc; }
.status p { margin: 0.25rem 0; }
.chart-figure { margin: 0; }
svg.chart { width: 100%; max-width: 60rem; height: auto; display: block; background: var(--paper); }
svg.chart text { font-size: 11px; fill: #374151; }
svg.chart text.replica-tick { fill: var(--replicas); }
svg.chart .grid line { stroke: #e2e6eb; }
svg.chart .grid line.axis { stroke: #6b7280; }
svg.chart .band { fill: var(--band); fill-opacity: 0.28; stroke: none; }
svg.chart .forecast { fill: none; stroke: var(--forecast); stroke-width: 1.5; stroke-dasharray: 5 3; }
svg.chart .demand { fill: none; stroke: var(--demand); stroke-width: 1.6; }
svg.chart .replicas { fill: none; stroke: var(--replicas); stroke-width: 2; }
svg.chart .anomaly { fill: var(--anomaly); stroke: #ffffff; stroke-width: 1.5; }
figcaption { color: var(--muted); margin: 0.4rem 0; max-width: 60rem; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; padding: 0; margin: 0.4rem 0; }
.legend li::before { content: ""; display: inline-block; width: 1.2rem; height: 0.2rem; margin: 0 0.4rem 0.25rem 0; vertical-align: middle; }
.legend .key-demand::before { background: var(--demand); }
.legend .key-forecast::before { border-top: 2px dashed var(--forecast); height: 0; }
.legend .key-band::before { background: var(--band); opacity: 0.5; height: 0.7rem; }
.legend .key-replicas::before { background: var(--replicas); }
.legend .key-anomaly::before { background: var(--anomaly); width: 0.7rem; height: 0.7rem; border-radius: 50%; }
details { margin: 0.5rem 0; }
summary { cursor: pointer; color: var(--link); font-weight: 600; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.3rem 1rem; margin: 0.5rem 0 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
#override-form { max-width: 36rem; }
@media (max-width: 900px) {
  body { grid-template-columns: minmax(0, 1fr); grid-template-areas: "top" "side" "main"; }
  .side { border-left: 0; border-bottom: 1px solid var(--rule); }
}
`;
