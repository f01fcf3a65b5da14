import { ServicesDirLoader } from '../config/load-services-dir.js'
import { readSnapshot } from '../discovery/read-snapshot.js'
import { ROUTER_DEFAULTS } from '../config/router-defaults.js'
import type { HealthCheckDefaults } from '../health/health-prober.js'
import { formatHealth, probeRoutesOnce } from '../health/probe-table-once.js'
import { buildRouteTable } from '../routing/build-route-table.js'
import { formatTable } from './format-table.js'

export interface CheckIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
}

const DEFAULT_CHECK: HealthCheckDefaults = {
  path: ROUTER_DEFAULTS.healthPath,
  intervalMs: ROUTER_DEFAULTS.healthIntervalMs,
  timeoutMs: ROUTER_DEFAULTS.healthTimeoutMs
}

/**
 * `sockrouter check`: reads the socket dir and services.d once, exactly as the
 * router would, prints the resulting table and every problem. Exit 1 when a
 * file is invalid or a route could not be used, so CI and editors can gate on it.
 * The HEALTH column is one probe per route, as the router's first (issue #12);
 * a route's health is runtime state and never changes the exit code, as it
 * never changes the router's own `status`.
 */
export async function runCheck (socketDir: string, servicesDir: string, io: CheckIo, health: HealthCheckDefaults = DEFAULT_CHECK): Promise<number> {
  const snapshot = await readSnapshot(socketDir, new ServicesDirLoader(servicesDir, socketDir), () => {})
  const { table, skipped, overrides } = buildRouteTable(snapshot)
  const healths = await probeRoutesOnce(table.routes, health)
  const rows = table.routes.map((r, i) => [
    r.prefix,
    r.upstream.kind === 'unix' ? r.upstream.socketPath : r.upstream.label,
    r.source === 'file' ? String(r.file) : 'discovered',
    r.status,
    formatHealth(healths[i]?.state ?? 'unknown', healths[i]?.cause ?? null)
  ])
  io.stdout.write(`socket dir:   ${socketDir}\nservices dir: ${servicesDir} (${snapshot.files.length} file${snapshot.files.length === 1 ? '' : 's'})\n\n`)
  io.stdout.write(rows.length === 0 ? 'no routes\n' : formatTable(['PREFIX', 'TARGET', 'SOURCE', 'STATUS', 'HEALTH'], rows))
  for (const prefix of overrides) io.stdout.write(`note: a route file overrides the discovered route ${prefix}\n`)
  const errors = [
    ...snapshot.files.flatMap((f) => f.errors),
    ...skipped.map((s) => `${s.what}: ${s.reason}`)
  ]
  for (const error of errors) io.stderr.write(`error: ${error}\n`)
  return errors.length === 0 ? 0 : 1
}
