import cluster, { type Worker } from 'node:cluster'
import { WORKER_ARGV_ENV } from './cluster-messages.js'

/**
 * True inside the single binary (issue #11), where process.argv[1] is the
 * binary itself, not a script. getBuiltinModule, not import(): a script
 * started from a V8 start-up snapshot has no dynamic import.
 */
function inSingleBinary (): boolean {
  const sea = process.getBuiltinModule('node:sea') as { isSea?: () => boolean } | undefined
  return sea?.isSea?.() ?? false
}

let prepared = false

/**
 * node:cluster re-runs an entry for each worker (issue #14). From source
 * or the bundle that is the script the primary ran (bin/sockrouter,
 * dist/sockrouter.cjs) with the same Node flags; in the single binary it is
 * the binary, which takes no Node flags on its command line. Either way the
 * worker's options come through the environment, and the pipe uses
 * structured clone, which keeps a snapshot's Maps.
 */
export function prepareWorkers (): void {
  if (prepared) return
  prepared = true
  const binary = inSingleBinary()
  cluster.setupPrimary({
    serialization: 'advanced',
    exec: binary ? process.execPath : process.argv[1],
    args: [],
    execArgv: binary ? [] : process.execArgv
  })
}

/** One worker; prepareWorkers ran. */
export function forkWorker (argv: readonly string[]): Worker {
  return cluster.fork({ [WORKER_ARGV_ENV]: JSON.stringify(argv) })
}
