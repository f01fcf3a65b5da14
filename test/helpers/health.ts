import type { HealthRecord, HealthState } from '../../src/health/route-health.js'
import type { RunningRouter } from '../../src/start-router.js'
import { DEADLINE_MS } from './wait-for.js'

/**
 * Resolves with `prefix`'s record once its state is `state` (now or on a later
 * 'change' event); rejects after the deadline with what it was instead.
 */
export function waitForHealth (router: RunningRouter, prefix: string, state: HealthState, timeoutMs = DEADLINE_MS): Promise<HealthRecord> {
  const now = router.health.get(prefix)
  if (now.state === state) return Promise.resolve(now)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      router.health.off('change', onChange)
      const last = router.health.get(prefix)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${prefix} to be ${state}; it is ${last.state} (${String(last.cause)})`))
    }, timeoutMs)
    const onChange = (changed: string, record: HealthRecord): void => {
      if (changed !== prefix || record.state !== state) return
      clearTimeout(timer)
      router.health.off('change', onChange)
      resolve(record)
    }
    router.health.on('change', onChange)
  })
}

export interface RouteHealthView {
  prefix: string
  health: HealthState
  healthSince: string | null
  healthCause: string | null
}
