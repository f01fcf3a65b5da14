import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * Every flag, its environment variable and default, in one place: the parser,
 * `--help` and the README table (checked by test/docs-options.test.ts) all
 * come from here.
 */
export interface OptionSpec {
  readonly flag: string
  readonly env: readonly string[]
  readonly value: string | null
  readonly defaultText: string
  readonly repeatable?: boolean
  readonly description: string
}

/** Read when options are parsed, not at load: the single binary's snapshot would keep the build's HOME (issue #11). */
export function defaultSocketDir (): string {
  return join(homedir(), 'hero', 'var', 'sockets')
}

export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'socket-dir', env: ['SOCKROUTER_SOCKET_DIR', 'HERO_SOCKET_DIR'], value: 'DIR', defaultText: '~/hero/var/sockets', description: 'Directory watched for <service>/<name>.sock and <service>.sock. Created if missing.' },
  { flag: 'services-dir', env: ['SOCKROUTER_SERVICES_DIR'], value: 'DIR', defaultText: 'services.d next to the socket dir', description: 'Hand-written route files (*.yaml, *.yml, *.json), validated and hot-reloaded; see docs/services.d.md. Missing is fine.' },
  { flag: 'listen', env: ['SOCKROUTER_LISTEN'], value: 'ADDR', defaultText: '127.0.0.1:9988', repeatable: true, description: 'HOST:PORT, [IPv6]:PORT, PORT or unix:/path; https://HOST:PORT (or https://PORT, loopback) for TLS with HTTP/2 and HTTP/1.1 (needs --tls-cert and --tls-key); h2c://HOST:PORT for cleartext HTTP/2 with prior knowledge. Repeat the flag (or comma-separate the env var) for several. Port 0 picks a free port.' },
  { flag: 'tls-cert', env: ['SOCKROUTER_TLS_CERT'], value: 'FILE', defaultText: 'none', description: 'PEM certificate (leaf first, then its chain) for the https:// listeners. Reloaded on SIGHUP and when the file changes; a bad one keeps the old one in use. See docs/tls-http2.md.' },
  { flag: 'tls-key', env: ['SOCKROUTER_TLS_KEY'], value: 'FILE', defaultText: 'none', description: 'PEM private key (unencrypted) of --tls-cert. Reloaded with it.' },
  { flag: 'admin-listen', env: ['SOCKROUTER_ADMIN_LISTEN'], value: 'ADDR', defaultText: 'none', repeatable: true, description: 'Also serve the admin surface (dashboard, metrics, routes, health and the admin API, writes included) and nothing else on ADDR: unix:/path (mode 0600) or HOST:PORT. Repeat or comma-separate.' },
  { flag: 'public-admin', env: ['SOCKROUTER_PUBLIC_ADMIN'], value: null, defaultText: 'off', description: 'Serve the read-only admin surface on non-loopback --listen addresses too. Without it they answer only /_sockrouter/health. Writes never go there.' },
  { flag: 'workers', env: ['SOCKROUTER_WORKERS'], value: 'N', defaultText: '1', description: 'Worker processes sharing the listeners (node:cluster); auto = one per core. The primary watches, scans and probes once for all of them, and replaces a worker that dies. 1 runs everything in one process. See docs/workers.md.' },
  { flag: 'upstream-timeout', env: ['SOCKROUTER_UPSTREAM_TIMEOUT'], value: 'DURATION', defaultText: '60s', description: 'How long to wait for a backend\'s response headers before answering 504. Bodies (SSE, downloads) have no timeout.' },
  { flag: 'connect-timeout', env: ['SOCKROUTER_CONNECT_TIMEOUT'], value: 'DURATION', defaultText: '5s', description: 'How long to wait to connect to a backend socket before answering 504.' },
  { flag: 'shutdown-grace', env: ['SOCKROUTER_SHUTDOWN_GRACE'], value: 'DURATION', defaultText: '5s', description: 'On SIGTERM/SIGINT, how long in-flight requests may finish before connections are cut.' },
  { flag: 'allowed-host', env: ['SOCKROUTER_ALLOWED_HOST'], value: 'HOST', defaultText: 'loopback names and the listen addresses', repeatable: true, description: 'Also accept requests (HTTP and WebSocket) whose Host header names HOST (port ignored); * accepts any. Others get 403 (DNS-rebinding guard). Repeat or comma-separate.' },
  { flag: 'allowed-origin', env: ['SOCKROUTER_ALLOWED_ORIGIN'], value: 'ORIGIN', defaultText: 'the router\'s own origin', repeatable: true, description: 'Also accept WebSocket handshakes whose Origin is ORIGIN (e.g. https://app.example); * accepts any. Handshakes without Origin are always accepted. Others get 403. Repeat or comma-separate.' },
  { flag: 'trusted-proxy', env: ['SOCKROUTER_TRUSTED_PROXY'], value: 'CIDR', defaultText: 'none (unix-listener clients only)', repeatable: true, description: 'Keep and append to the X-Forwarded-* headers of clients in CIDR (IPv4 or IPv6, or a plain address), such as a load balancer in front. Everyone else\'s are replaced. Repeat or comma-separate.' },
  { flag: 'max-tunnels', env: ['SOCKROUTER_MAX_TUNNELS'], value: 'N', defaultText: '10000', description: 'Most WebSocket tunnels open at once (handshakes in progress included). Over it: 503 with Retry-After.' },
  { flag: 'max-tunnels-per-ip', env: ['SOCKROUTER_MAX_TUNNELS_PER_IP'], value: 'N', defaultText: '1000', description: 'Most WebSocket tunnels open at once from one client IP. Over it: 503 with Retry-After.' },
  { flag: 'handshake-timeout', env: ['SOCKROUTER_HANDSHAKE_TIMEOUT'], value: 'DURATION', defaultText: '10s', description: 'How long a backend may take to answer a WebSocket handshake before the client gets 504.' },
  { flag: 'tunnel-idle-timeout', env: ['SOCKROUTER_TUNNEL_IDLE_TIMEOUT'], value: 'DURATION', defaultText: 'off', description: 'Close a WebSocket tunnel after this long without a byte either way. 0 keeps quiet tunnels open.' },
  { flag: 'max-connections', env: ['SOCKROUTER_MAX_CONNECTIONS'], value: 'N', defaultText: 'from the fd limit', description: 'Most client connections open at once over all listeners, WebSocket tunnels included. The default is (RLIMIT_NOFILE minus 5%) / 2, e.g. 9500 at 20000 fds. Over it: a raw 503 with Retry-After, then close.' },
  { flag: 'max-connections-per-ip', env: ['SOCKROUTER_MAX_CONNECTIONS_PER_IP'], value: 'N', defaultText: '1000', description: 'Most client connections open at once from one client IP. Over it: a raw 503 with Retry-After, then close. Any local process can use all of 127.0.0.0/8.' },
  { flag: 'header-timeout', env: ['SOCKROUTER_HEADER_TIMEOUT'], value: 'DURATION', defaultText: '10s', description: 'How long a request head may take, from accept (or from its first byte on a kept-alive connection). Then 408 and close; a connection that sent nothing is just closed. 0 turns it off.' },
  { flag: 'body-idle-timeout', env: ['SOCKROUTER_BODY_IDLE_TIMEOUT'], value: 'DURATION', defaultText: '60s', description: 'How long a request body may stall between reads. Then 408 (or a close, if the response has begun) and the backend request is aborted. 0 turns it off. Responses have no idle limit.' },
  { flag: 'health-interval', env: ['SOCKROUTER_HEALTH_INTERVAL'], value: 'DURATION', defaultText: '10s', description: 'How often each route is probed with GET --health-path, straight to its socket or URL. 0 turns probing off; a refused or missing socket still marks a route unreachable. A route file\'s healthCheck overrides it.' },
  { flag: 'health-path', env: ['SOCKROUTER_HEALTH_PATH'], value: 'PATH', defaultText: '/health', description: 'The path probed. 2xx, 3xx, 404, 405 and 501 count as healthy; other statuses and no answer within 2 s as unhealthy.' },
  { flag: 'log-level', env: ['SOCKROUTER_LOG_LEVEL'], value: 'LEVEL', defaultText: 'info', description: 'fatal, error, warn, info, debug, trace or silent. JSON lines; pretty on a terminal (see --log-format).' },
  { flag: 'log-format', env: ['SOCKROUTER_LOG_FORMAT'], value: 'FORMAT', defaultText: 'pretty on a terminal, else json', description: 'json (one JSON object a line) or pretty (one readable line per request, 5xx red, 4xx yellow; NO_COLOR turns colours off). Overrides the terminal guess.' },
  { flag: 'help', env: [], value: null, defaultText: '', description: 'Print usage and exit.' },
  { flag: 'version', env: [], value: null, defaultText: '', description: 'Print the version and exit.' }
]
