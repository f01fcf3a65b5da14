/**
 * The router-wide defaults, in one place: the CLI falls back to them when
 * neither a flag nor an env var is given, and startRouter when a caller
 * leaves an option out. option-table.ts shows the same values to people.
 */
export const ROUTER_DEFAULTS = {
  upstreamTimeoutMs: 60_000,
  connectTimeoutMs: 5_000,
  shutdownGraceMs: 5_000,
  maxTunnels: 10_000,
  maxTunnelsPerIp: 1_000,
  handshakeTimeoutMs: 10_000,
  /** 0 = quiet tunnels stay open. */
  tunnelIdleTimeoutMs: 0,
  /** `--max-connections` has no fixed default: it comes from the fd limit (listen/open-file-limit.ts). */
  maxConnectionsPerIp: 1_000,
  /** HAProxy's usual `timeout http-request 10s` (issue #10, defect 8). */
  headerTimeoutMs: 10_000,
  /** nginx's `client_body_timeout 60s`. */
  bodyIdleTimeoutMs: 60_000,
  /** Active health checks (issue #12): `GET /health` every 10 s, unhealthy after 2 s without an answer; 0 = not probed. */
  healthIntervalMs: 10_000,
  healthPath: '/health',
  healthTimeoutMs: 2_000
} as const
