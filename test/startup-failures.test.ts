import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import pino from 'pino'
import t from 'tap'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { startRouter } from '../src/start-router.js'
import { withoutChildCoverage } from './helpers/child-coverage.js'
import { BIN } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'

/**
 * Startup that fails must fail cleanly (issue #10, defect 11): one line and
 * exit 1, and nothing it opened (the directory watcher above all) left
 * behind to keep the process alive.
 */

const watchHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length

/** Resolves once the fs.watch handles are back to `count`; libuv closes them a loop turn or more after close(). */
async function watchHandlesBackTo (count: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (watchHandles() > count && Date.now() < deadline) await nextTurn()
  return watchHandles()
}

t.test('a first scan that throws fails startup with its reason and closes the directory watcher', async (t) => {
  const root = makeTempDir(t)
  const before = watchHandles()
  let reads = 0
  const attempt = startRouter({
    socketDir: join(root, 's'),
    servicesDir: join(root, 'services.d'),
    listen: [parseListenAddress('127.0.0.1:0')],
    upstreamTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
    shutdownGraceMs: 1_000,
    logger: pino({ level: 'silent' }),
    readSnapshot: async () => {
      reads++
      throw new Error('injected: unreadable')
    }
  })
  await t.rejects(attempt, { code: 'first_scan', message: 'cannot read the socket directory and services.d: injected: unreadable' })
  t.equal(reads, 1, 'the watcher was started before the scan')
  t.equal(await watchHandlesBackTo(before, 5000), before, 'every fs.watch handle the watcher opened is closed')
})

t.test('a socket dir under /proc prints one line and exits 1 instead of spinning', async (t) => {
  const child = spawn(process.execPath, [BIN, '--socket-dir', '/proc/sockrouter-nope/sockets', '--listen', '127.0.0.1:0', '--log-level', 'silent'], {
    env: withoutChildCoverage()
  })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  child.stdout.resume()
  // Recursive mkdir loops forever there at full CPU; a working startup answers at once.
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const [code, signal] = await once(child, 'exit') as [number | null, string | null]
  clearTimeout(killer)
  t.equal(signal, null, 'it exited by itself')
  t.equal(code, 1)
  t.equal(stderr, 'sockrouter: cannot use socket directory /proc/sockrouter-nope/sockets: it cannot be created there (ENOENT)\n')
})

t.test('a missing socket dir several levels deep is still created', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 'a', 'b', 'c')
  const router = await startRouter({
    socketDir,
    listen: [parseListenAddress('127.0.0.1:0')],
    upstreamTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
    shutdownGraceMs: 1_000,
    logger: pino({ level: 'silent' })
  })
  t.teardown(() => router.close())
  t.ok(statSync(socketDir).isDirectory())
})
