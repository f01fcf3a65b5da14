import cluster, { type Worker } from 'node:cluster'
import { WORKER_ARGV_ENV } from './cluster-messages.js'

/** True inside the single binary (issue #11), where process.argv[1] is the binary itself, not a script. */
async function inSingleBinary (): Promise<boolean> {
  try {
    const sea = await import('node:sea')
    return sea.isSea()
  } catch {
    return false
  }
}

let prepared: Promise<void> | null = null

/**
 * node:cluster re-runs an entry for each worker (issue #14). From source
 * or the bundle that is the script the primary ran (bin/sockrouter,
 * dist/sockrouter.cjs) with the same Node flags; in the single binary it is
 * the binary, which takes no Node flags on its command line. Either way the
 * worker's options come through the environment, and the pipe uses
 * structured clone, which keeps a snapshot's Maps.
 */
export async function prepareWorkers (): Promise<void> {
  prepared ??= inSingleBinary().then((binary) => {
    cluster.setupPrimary({
      serialization: 'advanced',
      exec: binary ? process.execPath : process.argv[1],
      args: [],
      execArgv: binary ? [] : process.execArgv
    })
  })
  await prepared
}

/** One worker; prepareWorkers ran. */
export function forkWorker (argv: readonly string[]): Worker {
  return cluster.fork({ [WORKER_ARGV_ENV]: JSON.stringify(argv) })
}
