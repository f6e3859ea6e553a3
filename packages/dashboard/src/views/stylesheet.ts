/**
 * The dashboard's one stylesheet, served as a file (the Content-Security-Policy forbids inline
 * styles). Light and dark follow the system setting.
 */
export const STYLESHEET = `
:root {
  --bg: #f6f7f9; --panel: #fff; --text: #1d2430; --muted: #5d6778; --line: #dde1e8;
  --accent: #2f6feb; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --info: #0969da;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f1318; --panel: #171c23; --text: #e3e8ef; --muted: #98a2b3; --line: #2a313c;
    --accent: #58a6ff; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --info: #58a6ff; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; align-items: center; gap: 16px; padding: 10px 24px;
  background: var(--panel); border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; font-size: 16px; color: var(--text); }
header.top nav { display: flex; gap: 4px; flex: 1; }
header.top nav a { padding: 4px 10px; border-radius: 6px; color: var(--muted); }
header.top nav a.current { background: var(--bg); color: var(--text); font-weight: 600; }
main { padding: 20px 24px 48px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 12px; }
h2 { font-size: 15px; margin: 24px 0 8px; }
.muted, .note { color: var(--muted); }
.note { font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; border: 1px solid var(--line);
  font-size: 12px; color: var(--muted); }
.badge.read-only { color: var(--warn); border-color: var(--warn); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .value { font-size: 22px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 12px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 12px; margin-top: 12px; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .title { font-weight: 600; margin-bottom: 4px; }
.chart .axis { stroke: var(--line); }
.chart text { fill: var(--muted); font-size: 10px; }
.chart .s1 { stroke: var(--accent); fill: none; stroke-width: 1.5; }
.chart .s2 { stroke: var(--muted); fill: none; stroke-width: 1; stroke-dasharray: 3 2; }
.chart .s3 { stroke: var(--bad); fill: none; stroke-width: 1.5; }
.legend { display: flex; gap: 12px; font-size: 12px; color: var(--muted); }
.legend .k1::before, .legend .k2::before, .legend .k3::before { content: ""; display: inline-block;
  width: 10px; height: 2px; margin: 0 4px 3px 0; background: var(--accent); }
.legend .k2::before { background: var(--muted); }
.legend .k3::before { background: var(--bad); }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line);
  border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: var(--bg); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono, .mono { font-family: var(--mono); font-size: 12px; word-break: break-all; }
tr:last-child td { border-bottom: 0; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px;
  overflow: auto; max-height: 420px; font: 12px/1.4 var(--mono); margin: 0; white-space: pre-wrap; word-break: break-word; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0;
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.status { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  border: 1px solid currentColor; }
.status-success, .status-archived, .status-ready, .status-polling { color: var(--ok); }
.status-error, .status-dead, .status-stopped, .status-cancelled { color: var(--bad); }
.status-running, .status-in-flight, .status-queued, .status-pending { color: var(--info); }
.status-sleeping, .status-paused, .status-delayed, .status-suspended, .status-cancelling,
.status-interrupted { color: var(--warn); }
.stale { color: var(--bad); font-weight: 600; }
.tabs { display: flex; gap: 4px; flex-wrap: wrap; margin: 8px 0; }
.tabs a { padding: 3px 10px; border: 1px solid var(--line); border-radius: 14px; background: var(--panel); }
.tabs a.current { background: var(--accent); border-color: var(--accent); color: #fff; }
form.inline { display: inline; margin: 0; }
form.filters { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; margin-bottom: 12px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
button, select, input[type=text], input[type=password] { font: inherit; padding: 4px 10px; border-radius: 6px;
  border: 1px solid var(--line); background: var(--panel); color: var(--text); }
button { cursor: pointer; }
button:hover { border-color: var(--accent); }
button.danger { color: var(--bad); border-color: var(--bad); }
button.link { border: 0; background: none; color: var(--accent); padding: 0; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0; align-items: center; }
td .actions { margin: 0; }
.nowrap { white-space: nowrap; word-break: normal; }
.flash { padding: 8px 12px; border-radius: 8px; border: 1px solid; margin: 0 0 12px; }
.flash-ok { color: var(--ok); }
.flash-error { color: var(--bad); }
.timeline svg { width: 100%; height: auto; display: block; }
.timeline .bar-success { fill: var(--ok); }
.timeline .bar-error { fill: var(--bad); }
.timeline .bar-running { fill: var(--info); }
.timeline .bar-sleep { fill: var(--warn); }
.timeline text { fill: var(--text); font-size: 11px; }
.timeline .grid { stroke: var(--line); }
.login { max-width: 360px; margin: 80px auto; }
.login form { display: flex; flex-direction: column; gap: 10px; }
.status-counts { display: flex; gap: 8px; flex-wrap: wrap; }
.status-counts a { display: inline-flex; gap: 6px; align-items: center; padding: 4px 10px;
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
`
