import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { cliCommand, cliEnv, startProcess, type RunningCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'

/**
 * Socket activation (issue #11), the way systemd does it: something else
 * owns the listening socket and passes it to each router it starts as fd 3,
 * with LISTEN_FDS=1 and LISTEN_PID set to that router's pid.
 *
 * The stand-in for systemd is a bash loop holding the socket as its fd 3:
 * bash never accepts on it, so, as under systemd, connections that arrive
 * while no router runs wait in the kernel's backlog. It starts a router on
 * each "start" line and reports its pid.
 */
const HOLDER = `
while read -r cmd; do
  if [ "$cmd" = start ]; then
    bash -c 'export LISTEN_FDS=1 LISTEN_PID=$$; exec "$@"' router "$@" &
    echo "{\\"started\\":$!}"
  fi
done`

interface Activator {
  readonly port: number
  readonly holder: RunningCli
  /** Starts a router on the held socket; resolves with its pid once it says it is ready. */
  start (): Promise<number>
}

async function listeningSocket (): Promise<{ server: Server, port: number, fd: number }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd
  return { server, port: (server.address() as { port: number }).port, fd }
}

async function startActivator (t: Test, routerArgs: readonly string[]): Promise<Activator> {
  const { server, port, fd } = await listeningSocket()
  const [file, args] = cliCommand(routerArgs)
  const holder = startProcess(t, 'bash', ['-c', HOLDER, 'holder', file, ...args], { env: cliEnv({}), extraFds: [fd] })
  // The holder has its own copy now; this process must not accept on it.
  server.close()
  t.teardown(() => {
    for (const line of holder.lines) {
      if (typeof line.started === 'number') try { process.kill(line.started, 'SIGKILL') } catch {}
    }
  })
  const count = (predicate: (line: Record<string, unknown>) => boolean): number => holder.lines.filter(predicate).length
  const isStarted = (l: Record<string, unknown>): boolean => typeof l.started === 'number'
  const isReady = (l: Record<string, unknown>): boolean => l.msg === 'sockrouter ready'
  const start = async (): Promise<number> => {
    const started = count(isStarted)
    const ready = count(isReady)
    holder.child.stdin.write('start\n')
    await holder.waitForLine(() => count(isStarted) > started, 30_000)
    await holder.waitForLine(() => count(isReady) > ready, 30_000)
    return Number(holder.lines.filter(isStarted)[started]?.started)
  }
  return { port, holder, start }
}

t.test('the router serves on a listening socket passed as fd 3 and binds nothing itself', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'sockets', 'svc', 'ui.sock'))
  // A --listen it could not bind: serving at all shows it used the fd instead.
  const activator = await startActivator(t, ['--socket-dir', join(dir, 'sockets'), '--listen', `unix:${join(dir, 'no-such-dir', 'r.sock')}`])
  const pid = await activator.start()
  t.match(activator.holder.lines.find((l) => l.fd !== undefined), { fd: 3, address: `127.0.0.1:${activator.port}` })
  const res = await httpGet(`http://127.0.0.1:${activator.port}/svc/ui/hello`)
  t.equal(res.status, 200)
  t.equal((JSON.parse(res.text) as { url: string }).url, '/hello')
  process.kill(pid, 'SIGTERM')
  await activator.holder.waitForLine((l) => l.msg === 'stopped')
})

interface Outcome { readonly ok: boolean, readonly error: string, readonly startedAt: number, readonly endedAt: number }

/** Clients that each send one request after another, each on a new connection, until told to stop. */
function startLoad (url: string, clients: number): { outcomes: Outcome[], waitForOk (n: number, timeoutMs: number): Promise<void>, stop (): Promise<void> } {
  const outcomes: Outcome[] = []
  const waiters = new Set<() => void>()
  let stopping = false
  const loop = async (): Promise<void> => {
    while (!stopping) {
      const startedAt = performance.now()
      let error = ''
      try {
        const res = await httpGet(url)
        if (res.status !== 200) error = `status ${res.status}`
      } catch (err) {
        error = (err as NodeJS.ErrnoException).code ?? (err as Error).message
      }
      outcomes.push({ ok: error === '', error, startedAt, endedAt: performance.now() })
      for (const waiter of waiters) waiter()
    }
  }
  const loops = Array.from({ length: clients }, loop)
  const okCount = (): number => outcomes.filter((o) => o.ok).length
  return {
    outcomes,
    waitForOk (n, timeoutMs) {
      return new Promise((resolve, reject) => {
        const target = okCount() + n
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`fewer than ${n} requests served within ${timeoutMs} ms`)) }, timeoutMs)
        const check = (): void => {
          if (okCount() < target) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve()
        }
        waiters.add(check)
      })
    },
    async stop () {
      stopping = true
      await Promise.all(loops)
    }
  }
}

t.test('a restart on a held listening socket drops no request under load', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'sockets', 'svc', 'ui.sock'))
  const activator = await startActivator(t, ['--socket-dir', join(dir, 'sockets'), '--listen', '127.0.0.1:0'])
  const first = await activator.start()
  const load = startLoad(`http://127.0.0.1:${activator.port}/svc/ui/load`, 6)
  t.teardown(() => load.stop())
  await load.waitForOk(30, 30_000)

  // systemctl restart: stop the old router and wait for it to go, then start the new one.
  const isStopped = (l: Record<string, unknown>): boolean => l.msg === 'stopped'
  process.kill(first, 'SIGTERM')
  await activator.holder.waitForLine(isStopped, 30_000)
  const firstGoneAt = performance.now()
  await activator.start()
  const secondReadyAt = performance.now()
  await load.waitForOk(30, 30_000)
  await load.stop()

  t.same(load.outcomes.filter((o) => !o.ok).map((o) => o.error), [], 'no request failed')
  t.ok(load.outcomes.some((o) => o.ok && o.startedAt < secondReadyAt && o.endedAt > firstGoneAt),
    'requests sent while no router ran waited in the backlog and were served')
  t.ok(load.outcomes.length >= 60, `${load.outcomes.length} requests`)
})
