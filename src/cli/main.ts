import { join, resolve } from 'node:path'
import { formatListenAddress, listenOrigin, type ListenAddress } from '../listen/listen-address.js'
import type { DemoService } from '../demo/demo-service.js'
import { ROUTER_DEFAULTS } from '../config/router-defaults.js'
import { createLogger } from '../logging/create-logger.js'
import { reloadWithLog } from '../logging/log-reload.js'
import { startRouter, type RunningRouter } from '../start-router.js'
import { waitForSignals } from '../lifecycle/wait-for-signals.js'
import { takeInheritedFds } from '../listen/inherited-fds.js'
import { helpText } from './help-text.js'
import { parseOptions, UsageError, type CliOptions } from './parse-options.js'
import { demoServicesDir, readVersion, versionLine } from '../config/build-info.js'
import { WORKER_ARGV_ENV } from '../cluster/cluster-messages.js'

export interface MainIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean }
  readonly stderr: NodeJS.WritableStream
  /** For `top`'s keys; process.stdin when the CLI runs for real. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean, setRawMode?: (mode: boolean) => unknown }
}

/** Where `npm start` (the demo) keeps its sockets unless told otherwise. */
const DEMO_SOCKET_DIR = 'run/sockets'

function routerDirs (options: CliOptions): { socketDir: string, servicesDir: string } {
  const isDemo = options.command === 'demo'
  return {
    socketDir: isDemo && options.socketDirDefaulted ? resolve(DEMO_SOCKET_DIR) : options.socketDir,
    servicesDir: isDemo && options.servicesDirDefaulted ? demoServicesDir() : options.servicesDir
  }
}

async function run (options: CliOptions, argv: readonly string[], env: NodeJS.ProcessEnv, io: MainIo): Promise<number> {
  const log = await createLogger(options.logLevel, io.stdout, options.logFormat, env)
  const { socketDir, servicesDir } = routerDirs(options)
  let demo: DemoService | null = null
  if (options.command === 'demo') {
    // Imported on use, like `check` and `routes` below: a plain `serve` never loads ws or the demo page (issue #11, start-up).
    const { startDemoService } = await import('../demo/demo-service.js')
    demo = await startDemoService(join(socketDir, 'demo', 'ui.sock'))
    log.info({ socket: 'demo/ui.sock' }, 'demo service started')
  }
  if (options.workers > 1) {
    // Issue #14: the primary forks the workers; node:cluster is loaded only here, never in the binary's snapshot.
    try {
      return await (await import('../cluster/run-primary.js')).runPrimary({ options, socketDir, servicesDir, argv, env, log })
    } finally {
      await demo?.close()
    }
  }
  let router: RunningRouter
  try {
    router = await startRouter({ ...options, socketDir, servicesDir, inheritedFds: takeInheritedFds(env), logger: log })
  } catch (err) {
    await demo?.close()
    throw err
  }
  if (demo !== null) {
    const origin = router.listeners[0] === undefined ? null : listenOrigin(router.listeners[0].address)
    if (origin !== null) log.info(`demo: open ${origin}/demo/ui/ (the dashboard: ${origin}/_sockrouter/)`)
  }
  return await waitForSignals({
    log,
    stopping: { message: 'shutting down' },
    stop: async () => {
      await router.close()
      await demo?.close()
    },
    reload: () => {
      log.info('SIGHUP: rescanning the socket directory, reloading services.d and any TLS certificate')
      void reloadWithLog(() => router.rescan(), log, 'SIGHUP')
      // The TLS certificate too (issue #13); the reload logs its own outcome.
      void router.reloadTls('SIGHUP')
    }
  })
}

/**
 * A `--workers` worker (issue #14): the primary's argv, parsed again here,
 * and the same socket and services dirs; the demo service, the signals and
 * start-up failure's one line are the primary's.
 */
async function runAsWorker (argv: readonly string[], env: NodeJS.ProcessEnv, io: MainIo): Promise<number> {
  const options = parseOptions(argv, env)
  const log = await createLogger(options.logLevel, io.stdout, options.logFormat, env)
  const { runWorker } = await import('../cluster/run-worker.js')
  return await runWorker({ ...options, ...routerDirs(options) }, log)
}

/** The whole CLI. Returns the exit code; errors become one line on stderr, never a stack. */
export async function main (argv: readonly string[], env: NodeJS.ProcessEnv, io: MainIo = process): Promise<number> {
  const workerArgv = env[WORKER_ARGV_ENV]
  if (workerArgv !== undefined) return await runAsWorker(JSON.parse(workerArgv) as string[], env, io)
  let options: CliOptions
  try {
    options = parseOptions(argv, env)
  } catch (err) {
    // One line: what was wrong, and where to look (issue #10).
    io.stderr.write(`sockrouter: ${(err as Error).message}; see 'sockrouter --help'\n`)
    return 2
  }
  if (options.command === 'help') {
    io.stdout.write(helpText(readVersion()))
    return 0
  }
  if (options.command === 'version') {
    io.stdout.write(`${versionLine()}\n`)
    return 0
  }
  try {
    if (options.command === 'check') return await (await import('./check-command.js')).runCheck(options.socketDir, options.servicesDir, io, { path: options.healthPath, intervalMs: options.healthIntervalMs, timeoutMs: ROUTER_DEFAULTS.healthTimeoutMs })
    const first = options.listen[0]
    if ((options.command === 'routes' || options.command === 'top') && first?.kind === 'tcp' && first.scheme === 'h2c') {
      // These commands speak HTTP/1.1 (issue #13); an h2c:// listener speaks only HTTP/2.
      throw new UsageError(`${options.command}: --listen ${formatListenAddress(first)} speaks HTTP/2 only; give the router's plain, https:// or unix: address`)
    }
    if (options.command === 'routes') return await (await import('./routes-command.js')).runRoutes(options.listen[0] as ListenAddress, io, options.adminListen[0])
    if (options.command === 'top') return await (await import('./top-command.js')).runTop(options.listen[0] as ListenAddress, io, env)
    return await run(options, argv, env, io)
  } catch (err) {
    const message = err instanceof UsageError || typeof (err as { code?: unknown }).code === 'string'
      ? (err as Error).message
      : `failed to start: ${(err as Error).message}`
    io.stderr.write(`sockrouter: ${message}\n`)
    return 1
  }
}
