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
  tunnelIdleTimeoutMs: 0
} as const
