import { spawnSync } from 'node:child_process'
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { spawnChild, type Child } from './children.js'
import { SMALL_JSON } from './backend-bodies.js'
import type { BenchCert } from './tls-cert.js'

/**
 * nginx twice over: as the fast static backend (`return 200` on a unix
 * socket, the ceiling) and as the reference reverse proxy. Each instance gets
 * its own prefix dir inside the bench temp dir, runs in the foreground as the
 * current user, and logs errors to stderr. Nothing under /etc or /var is used.
 */

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx', '/usr/local/nginx/sbin/nginx']

export interface NginxBinary {
  readonly path: string
  readonly version: string
  /** Built with the ssl and http_v2 modules, so it can be the HTTP/2 and wss peer (issue #13). */
  readonly h2: boolean
  /** The OpenSSL it runs with, e.g. `3.0.19`, or null if it does not say. */
  readonly openssl: string | null
}

export function findNginx (): NginxBinary | null {
  for (const path of CANDIDATES) {
    try {
      accessSync(path, constants.X_OK)
    } catch {
      continue
    }
    // `nginx -V` prints "nginx version: nginx/1.22.1" and its configure arguments on stderr.
    const { stderr } = spawnSync(path, ['-V'], { encoding: 'utf8' })
    const h2 = stderr.includes('--with-http_ssl_module') && stderr.includes('--with-http_v2_module')
    // "built with OpenSSL 3.0.22 … (running with OpenSSL 3.0.19 …)": the one it runs with is the one measured.
    const openssl = /running with OpenSSL (\S+)/.exec(stderr)?.[1] ?? /built with OpenSSL (\S+)/.exec(stderr)?.[1] ?? null
    return { path, version: /nginx\/(\S+)/.exec(stderr)?.[1] ?? 'unknown', h2, openssl }
  }
  return null
}

/** The lines every instance shares: foreground, own pid/temp paths, errors on stderr. */
function preamble (prefix: string, workerConnections: number): string {
  // As root, workers would drop to `nobody` and lose access to the 0700 temp dir.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : ''
  return `${user}daemon off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log stderr warn;
worker_rlimit_nofile ${workerConnections + 1024};
events { worker_connections ${workerConnections}; }
`
}

function tempPaths (prefix: string): string {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${join(prefix, `${kind}-temp`)};`)
    .join('\n')
}

export function staticBackendConfig (prefix: string, socketPath: string): string {
  return `${preamble(prefix, 4096)}
http {
  access_log off;
${tempPaths(prefix)}
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  server {
    listen unix:${socketPath};
    default_type application/json;
    location / { return 200 '${SMALL_JSON}'; }
  }
}
`
}

export interface ProxyRoute {
  /** `/json/ui`: no trailing slash. */
  readonly prefix: string
  readonly socketPath: string
}

/** An HTTPS server next to the plain one, for the HTTP/2 and wss scenarios (issue #13). */
export interface ProxyTls {
  readonly port: number
  readonly cert: BenchCert
  /** From findNginx: picks the `http2` syntax. */
  readonly version: string
}

/** `1.25.1` → [1, 25, 1], for comparing versions. */
function versionParts (version: string): number[] {
  return version.split('.').map((n) => Number.parseInt(n, 10) || 0)
}

function atLeast (version: string, wanted: readonly number[]): boolean {
  const have = versionParts(version)
  for (let i = 0; i < wanted.length; i++) {
    const a = have[i] ?? 0
    const b = wanted[i] ?? 0
    if (a !== b) return a > b
  }
  return true
}

/**
 * The TLS listener: nginx 1.25.1 moved `http2` from a `listen` parameter to
 * a directive of its own. TLS 1.2+, as sockrouter's (issue #13). Session
 * resumption does not matter here: every load keeps its connections open.
 */
function tlsListen (tls: ProxyTls): string {
  const listen = atLeast(tls.version, [1, 25, 1])
    ? `    listen 127.0.0.1:${tls.port} ssl;\n    http2 on;`
    : `    listen 127.0.0.1:${tls.port} ssl http2;`
  return `${listen}
    ssl_certificate ${tls.cert.certFile};
    ssl_certificate_key ${tls.cert.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;`
}

/**
 * nginx as a user would put it in front of local services: upstream
 * keep-alive, HTTP/1.1 to the backend, the Upgrade/Connection map for
 * WebSocket, X-Forwarded-*, and its default access log. With `tls`, a second
 * server does the same job over TLS, HTTP/2 and HTTP/1.1 by ALPN; since
 * 1.19.7 `keepalive_requests` also caps the requests per HTTP/2 connection,
 * so the raised value below keeps nginx from sending GOAWAY every 1000.
 */
export function proxyConfig (prefix: string, port: number, routes: readonly ProxyRoute[], tls: ProxyTls | null = null): string {
  const upstreams = routes.map((r, i) => `  upstream u${i} {
    server unix:${r.socketPath};
    keepalive 64;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
  }`).join('\n')
  // proxy_set_header is inherited only by levels that set none of their own, so each location carries the full set.
  const locations = routes.map((r, i) => `    location ${r.prefix}/ {
      proxy_pass http://u${i}/;
      proxy_set_header Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Prefix ${r.prefix};
    }`).join('\n')
  return `${preamble(prefix, 16384)}
http {
  access_log ${join(prefix, 'access.log')};
${tempPaths(prefix)}
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' '';
  }
${upstreams}
  # Tunnels stay open while idle (the idle-tunnel scenario holds them).
  proxy_read_timeout 3600s;
  proxy_send_timeout 3600s;
  # Keep big responses in memory buffers rather than temp files on disk.
  proxy_max_temp_file_size 0;
  server {
    listen 127.0.0.1:${port};
    proxy_http_version 1.1;
${locations}
  }
${tls === null
  ? ''
  : `  server {
${tlsListen(tls)}
    proxy_http_version 1.1;
${locations}
  }
`}}
`
}

/** Writes `config` into `prefix` and starts nginx on it in the foreground. */
export function startNginx (name: string, nginx: NginxBinary, prefix: string, config: string): Child {
  mkdirSync(prefix, { recursive: true })
  const conf = join(prefix, 'nginx.conf')
  writeFileSync(conf, config)
  return spawnChild(name, nginx.path, ['-p', prefix, '-c', conf, '-e', 'stderr'], { ownGroup: true })
}
