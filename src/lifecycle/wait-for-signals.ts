import type { Logger } from 'pino'

/** What the one process (cli/main.ts) and the primary of `--workers` (cluster/run-primary.ts) do on each signal. */
export interface SignalActions {
  readonly log: Logger
  /** The line SIGTERM/SIGINT logs first, and its fields. */
  readonly stopping: { readonly message: string, readonly fields?: Record<string, unknown> }
  /** The graceful shutdown: resolves once everything is closed. */
  readonly stop: () => Promise<void>
  /** The second signal, before exit 130: whatever must not outlive the process (a primary's workers). */
  readonly forceStop?: () => void
  /** SIGHUP: a rescan and the TLS reload; each logs its own outcome. */
  readonly reload: () => void
}

/**
 * SIGTERM and SIGINT shut down gracefully, a second one exits at once with
 * 130; SIGHUP reloads (README "Signals"). Resolves with the exit code.
 */
export function waitForSignals ({ log, stopping: said, stop: shutDown, forceStop, reload }: SignalActions): Promise<number> {
  return new Promise((resolveExit) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now')
        forceStop?.()
        resolveExit(130)
        return
      }
      stopping = true
      log.info({ signal, ...said.fields }, said.message)
      shutDown()
        .then(() => {
          log.info('stopped')
          resolveExit(0)
        })
        .catch((err: unknown) => {
          log.error({ err }, 'shutdown failed')
          resolveExit(1)
        })
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGHUP', reload)
  })
}
