import type { Backends } from '../backends.js'
import type { BenchOptions } from '../options.js'
import type { RouterWays } from '../router-ways.js'
import type { ProxyLauncher, RunningTarget, TargetId } from '../targets.js'

/** One figure a scenario produces, and how it is compared with direct and nginx. */
export interface MetricDef {
  readonly key: string
  readonly label: string
  readonly unit: string
  readonly better: 'higher' | 'lower'
  /** `ratio`: target ÷ reference. `difference`: target − reference (latency added). */
  readonly compare: 'ratio' | 'difference'
}

export interface ScenarioContext {
  readonly options: BenchOptions
  readonly backends: Backends
  readonly launchers: readonly ProxyLauncher[]
  /** How each way of sockrouter runs, and the binary's Node (issue #14). */
  readonly ways: RouterWays
  readonly tempDir: string
  /** The h2load binary (Debian's nghttp2-client), or null when it is missing (issue #13). */
  readonly h2load: string | null
  /** A progress line on stderr. */
  note (line: string): void
}

/** What one run of a scenario against one target produced. NaN values are dropped. */
export interface RunResult {
  readonly values: Readonly<Record<string, number>>
  /** Failed requests, sockets or trials; a figure with errors behind it is flagged. */
  readonly errors: number
  readonly detail?: Readonly<Record<string, number | string>>
}

export interface Scenario {
  readonly id: string
  readonly title: string
  readonly metrics: readonly MetricDef[]
  /** `round`: once per target per round, interleaved. `once`: after the rounds. */
  readonly schedule: 'round' | 'once'
  /** Runs over the targets' TLS listeners (issue #13): only targets that have one, and only those listeners get started. */
  readonly tls?: boolean
  /**
   * Issue #14: `all` runs on every target (sockrouter's three ways, the
   * peers on both Nodes); `full` does so in a full run and only on the core
   * set with --quick; `core` (the default) only on direct, nginx, one
   * sockrouter (the binary) and the peers on its Node, to keep a full run
   * inside its deadline. See coverage.ts.
   */
  readonly reach?: 'all' | 'full' | 'core'
  /** Also runs on the `--workers 2` binary (issue #14); no other scenario does. */
  readonly workers?: boolean
  appliesTo (target: TargetId): boolean
  /** Why this machine cannot run it (e.g. no nginx for the static backend), or null. */
  unavailable (ctx: ScenarioContext): string | null
  /** Asked once the targets run, of those it covers: why they cannot run it (e.g. no RFC 8441 in this sockrouter), or null. */
  probe? (ctx: ScenarioContext, targets: readonly RunningTarget[]): Promise<string | null>
  run (ctx: ScenarioContext, target: RunningTarget, round: number): Promise<RunResult>
}
