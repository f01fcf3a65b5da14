/** `npm run fuzz -- [options]`: parsed by hand into one typed object, with one-line usage errors. */
export interface FuzzOptions {
  readonly mode: 'fuzz' | 'faults'
  readonly seed: number
  readonly from: number
  readonly cases: number
  /** Replay only this case, printing its bytes and what came back. */
  readonly only: number | null
  readonly concurrency: number
  readonly idleMs: number
  readonly closeDeadlineMs: number
  /** Allowed RSS growth of the router between warm-up and the end, in MiB. */
  readonly rssToleranceMiB: number
  /** --faults: run only these scenarios. */
  readonly scenarios: readonly string[]
}

export const DEFAULT_SEED = 20261010
export const FULL_CASES = 1_000_000
export const QUICK_CASES = 20_000

export const USAGE = `usage: npm run fuzz -- [--quick | --cases N] [--seed N] [--from K] [--case K]
                     [--concurrency N] [--idle-ms N] [--close-deadline-ms N] [--rss-tolerance-mib N]
       npm run fuzz -- --faults [--only a,b]
  --quick           ${QUICK_CASES.toLocaleString('en')} cases (CI); the default is ${FULL_CASES.toLocaleString('en')}
  --seed N          PRNG seed (default ${DEFAULT_SEED}); case K of seed N is always the same bytes
  --from K          first case index (default 0), to run one slice of a long run
  --case K          replay case K alone and print its bytes, the response and what the backends saw
  --faults          the fault scenarios of docs/reliability.md instead of the fuzzer`

export class UsageError extends Error {}

function int (flag: string, value: string | undefined): number {
  const n = Number(value)
  if (value === undefined || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} needs a whole number, got ${value ?? 'nothing'}`)
  return n
}

export function parseFuzzOptions (argv: readonly string[]): FuzzOptions {
  let mode: FuzzOptions['mode'] = 'fuzz'
  let seed = DEFAULT_SEED
  let from = 0
  let cases = FULL_CASES
  let only: number | null = null
  let concurrency = 64
  let idleMs = 500
  let closeDeadlineMs = 3000
  // The live heap after a full GC (8 MiB tolerance) is the leak check; RSS follows malloc's arenas and
  // once grew 140 → 185 MiB in a quick run on a loaded machine while the heap grew 1.4 MiB.
  let rssToleranceMiB = 64
  let scenarios: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? ''
    const value = (): string | undefined => argv[++i]
    switch (flag) {
      case '--quick': cases = QUICK_CASES; break
      case '--faults': mode = 'faults'; break
      case '--cases': cases = int(flag, value()); break
      case '--seed': seed = int(flag, value()); break
      case '--from': from = int(flag, value()); break
      case '--case': only = int(flag, value()); break
      case '--concurrency': concurrency = Math.max(1, int(flag, value())); break
      case '--idle-ms': idleMs = int(flag, value()); break
      case '--close-deadline-ms': closeDeadlineMs = int(flag, value()); break
      case '--rss-tolerance-mib': rssToleranceMiB = int(flag, value()); break
      case '--only': scenarios = (value() ?? '').split(',').filter((s) => s !== ''); break
      case '--help': case '-h': throw new UsageError('')
      default: throw new UsageError(`unknown option ${flag}`)
    }
  }
  return { mode, seed, from, cases, only, concurrency, idleMs, closeDeadlineMs, rssToleranceMiB, scenarios }
}
