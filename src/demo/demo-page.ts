/**
 * The demo service's page. Every link is built from X-Forwarded-Prefix, which
 * is how a service behind sockrouter should build its URLs.
 */
export function demoPage (prefix: string): string {
  const p = JSON.stringify(prefix)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sockrouter demo</title>
<style>
 body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
 code{background:#eef1f6;padding:.1rem .3rem;border-radius:3px}
 .box{border:1px solid #d5dae3;border-radius:6px;padding:.75rem 1rem;margin:1rem 0}
 #ws-log,#sse-log{font-family:ui-monospace,monospace;font-size:13px;white-space:pre-wrap;min-height:1.5rem}
</style></head>
<body>
<h1>It works: this page came through sockrouter</h1>
<p>The demo service listens on a Unix socket; sockrouter routed <code id="prefix"></code> to it and told it so in <code>X-Forwarded-Prefix</code>.</p>
<div class="box"><h2>Request info</h2><p><a id="info-link">JSON echo of this request's headers</a></p></div>
<div class="box"><h2>Server-sent events</h2><div id="sse-log">connecting…</div></div>
<div class="box"><h2>WebSocket echo</h2><p>Status: <b id="ws-status">connecting…</b></p><div id="ws-log"></div></div>
<script>
const prefix = ${p};
document.getElementById('prefix').textContent = prefix + '/';
document.getElementById('info-link').href = prefix + '/api/info';
const sseLog = document.getElementById('sse-log');
const events = new EventSource(prefix + '/events');
events.onmessage = (e) => { sseLog.textContent = 'tick ' + e.data; };
events.onerror = () => { sseLog.textContent = 'event stream closed'; };
const status = document.getElementById('ws-status');
const wsLog = document.getElementById('ws-log');
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + prefix + '/ws');
ws.onopen = () => { status.textContent = 'open'; ws.send('hello from the browser'); };
ws.onmessage = (e) => { status.textContent = 'echoed'; wsLog.textContent += 'echo: ' + e.data + '\\n'; };
ws.onerror = () => { status.textContent = 'failed (WebSocket passthrough unavailable)'; };
</script>
</body></html>
`
}
