import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { httpGet } from './helpers/http-client.js'
import { startCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { handshakeHead, startWsBackend, withTimeout } from './helpers/ws-backend.js'

const MiB = 1024 * 1024
const TOTAL = 200 * MiB
const FRAME = MiB
/** A server frame of 1 MiB has a 10-byte header (RFC 6455 §5.2, 64-bit length). */
const WIRE_TOTAL = TOTAL + (TOTAL / FRAME) * 10

function rssOf (pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb) * 1024
}

t.test('a client that does not read: the backend is held back and the router\'s memory stays bounded', async (t) => {
  const dir = makeTempDir(t)
  let pushed = 0
  /** Samples the router's RSS each time the backend got a frame out. */
  let onPushed = (): void => {}
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'), {
    onConnection: (ws) => {
      const chunk = Buffer.alloc(FRAME, 0x61)
      // One frame in flight at a time: the backend itself buffers almost nothing, so any growth would be the router's.
      const next = (err?: Error | null): void => {
        if (err !== undefined && err !== null) return
        onPushed()
        if (pushed >= TOTAL) return
        pushed += FRAME
        ws.send(chunk, { binary: true }, next)
      }
      next()
    }
  })
  // The router runs as its own process so that its RSS is not mixed with this test's buffers.
  const cli = startCli(t, ['--socket-dir', dir, '--listen', '127.0.0.1:0', '--log-level', 'info'])
  const port = Number(/:(\d+)$/.exec(String((await cli.waitForLine((l) => typeof l.address === 'string')).address))?.[1])
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const pid = cli.child.pid as number

  const socket = connect(port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  let head = ''
  let received = 0
  await withTimeout(new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      head += c.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.off('data', onData)
      socket.pause()
      received = Buffer.byteLength(head, 'latin1') - (end + 4)
      t.match(head, /^HTTP\/1\.1 101 /)
      resolve()
    }
    socket.on('data', onData)
    socket.on('error', reject)
    socket.write(handshakeHead('/svc/ws/', port))
  }), 10_000, 'the 101')
  const baseline = rssOf(pid)
  let peak = baseline
  const sample = (): void => { peak = Math.max(peak, rssOf(pid)) }
  onPushed = sample

  // The backend has stalled once the router has answered many requests in a
  // row while the backend's pending frame stayed pending: each answer proves
  // that the router's event loop went round and could have read more.
  const probe = `http://127.0.0.1:${port}/_sockrouter/health`
  let last = -1
  let still = 0
  await withTimeout((async () => {
    while (still < 20) {
      if ((await httpGet(probe)).status !== 200) throw new Error('the router stopped answering')
      sample()
      still = pushed === last ? still + 1 : 0
      last = pushed
    }
  })(), 30_000, 'the backend to stall')
  const stalledAt = pushed
  t.ok(stalledAt < 64 * MiB, `the backend stalled after ${(stalledAt / MiB).toFixed(0)} MiB of ${TOTAL / MiB} MiB`)
  const atStall = rssOf(pid)

  // Now read everything: all 200 MiB must still arrive.
  await withTimeout(new Promise<void>((resolve) => {
    socket.on('data', (c: Buffer) => {
      received += c.length
      if (received >= WIRE_TOTAL) resolve()
    })
    socket.resume()
  }), 40_000, 'all 200 MiB to arrive')
  sample()
  t.equal(received, WIRE_TOTAL, 'every byte arrived once the client read')
  const growth = peak - baseline
  t.comment(`router RSS: baseline ${(baseline / MiB).toFixed(1)} MiB, at stall ${(atStall / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, growth ${(growth / MiB).toFixed(1)} MiB`)
  t.ok(atStall - baseline < 64 * MiB, `while the client did not read, router RSS grew ${((atStall - baseline) / MiB).toFixed(1)} MiB (limit 64 MiB)`)
  t.ok(growth < 64 * MiB, `over the whole 200 MiB, router RSS peaked ${(growth / MiB).toFixed(1)} MiB above baseline (limit 64 MiB)`)
})
