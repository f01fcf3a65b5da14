import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseOptions } from '../src/cli/parse-options.js'
import { occupyPort } from './helpers/listen-socket.js'
import { cliCommand, cliEnv, runCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'

/** `--workers` (issue #14) at the edges: parsing, start-up failures said once, and systemd's sockets refused. */

t.test('--workers takes N ≥ 1 or auto (one per core), from the flag or SOCKROUTER_WORKERS; 1 is the default', async (t) => {
  t.equal(parseOptions([]).workers, 1)
  t.equal(parseOptions(['--workers', '3']).workers, 3)
  t.equal(parseOptions(['--workers', 'auto']).workers, availableParallelism())
  t.equal(parseOptions([], { SOCKROUTER_WORKERS: 'auto' }).workers, availableParallelism())
  t.equal(parseOptions([], { SOCKROUTER_WORKERS: '2' }).workers, 2)
  t.throws(() => parseOptions(['--workers', '0']), /--workers: "0" is not a whole number of at least 1/)
  t.throws(() => parseOptions(['--workers', 'many']), /--workers: "many"/)
})

t.test('--workers 2 on a port in use: one line on stderr, exit 1, no worker left running', async (t) => {
  const dir = makeTempDir(t)
  const port = await occupyPort(t)
  const res = await runCli(['--workers', '2', '--socket-dir', join(dir, 's'), '--listen', `127.0.0.1:${port}`, '--log-format', 'json'])
  t.equal(res.code, 1)
  t.equal(res.stderr, `sockrouter: cannot listen on 127.0.0.1:${port}: address already in use\n`, 'said once, by the primary')
})

t.test('--workers 2 refuses systemd socket activation (LISTEN_FDS) in one line', async (t) => {
  const dir = makeTempDir(t)
  const [file, args] = cliCommand(['--workers', '2', '--socket-dir', join(dir, 's')])
  // As systemd does it: LISTEN_PID is the router's own pid, which bash's exec keeps.
  const child = spawn('bash', ['-c', 'export LISTEN_FDS=1 LISTEN_PID=$$; exec "$@"', 'router', file, ...args], { env: cliEnv({}) })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  child.stdout.resume()
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 1)
  t.match(stderr, /^sockrouter: --workers 2 cannot serve sockets passed by systemd \(LISTEN_FDS\)[^\n]*\n$/)
})
