import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import type { RouteChange } from '../routing/diff-route-tables.js'

/** What a reload reports; the shape of RunningRouter.rescan()'s result. */
export interface ReloadOutcome {
  readonly changes: readonly RouteChange[]
  readonly failure: string | null
}

function count (n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}

/** "1 route added, 0 removed, 0 changed". */
export function describeReload (changes: readonly RouteChange[]): string {
  const of = (kind: RouteChange['kind']): number => changes.filter((c) => c.kind === kind).length
  return `${count(of('added'), 'route', 'routes')} added, ${of('removed')} removed, ${of('changed')} changed`
}

/**
 * Runs a reload and logs, once it is over, how long it took and what it
 * changed (issue #12: SIGHUP said only that it started). Each change also has
 * its own `route added …` line, written as the table swaps; this line is the
 * summary an operator waits for. Never rejects.
 */
export async function reloadWithLog (reload: () => Promise<ReloadOutcome>, log: Logger, trigger: string): Promise<ReloadOutcome> {
  const startedAt = performance.now()
  const outcome = await reload()
  const ms = Math.round((performance.now() - startedAt) * 10) / 10
  const prefixes = (kind: RouteChange['kind']): string[] => outcome.changes.filter((c) => c.kind === kind).map((c) => c.route.prefix)
  const fields = { trigger, ms, added: prefixes('added'), removed: prefixes('removed'), changed: prefixes('changed') }
  if (outcome.failure !== null) {
    log.warn({ ...fields, error: outcome.failure }, `reload failed after ${ms} ms; the last good route table stays in force: ${outcome.failure}`)
  } else {
    log.info(fields, `reload finished in ${ms} ms: ${describeReload(outcome.changes)}`)
  }
  return outcome
}
