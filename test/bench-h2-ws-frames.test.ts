import { connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { frameLength, maskedFrame } from '../bench/load/h2-ws-load.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { withTimeout } from './helpers/wait-for.js'
import { startWsBackend } from './helpers/ws-backend.js'

/**
 * The RFC 8441 echo load of `npm run bench` (issue #13) writes and reads
 * WebSocket frames itself. A real `ws` echo server judges them: it must
 * take each masked frame as one text message, and frameLength must find
 * the end of each echoed frame only once all of it has arrived.
 */

const HANDSHAKE = [
  'GET / HTTP/1.1',
  'Host: localhost',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
  '', ''
].join('\r\n')

for (const size of [64, 200, 70_000]) {
  t.test(`a ${size} B masked text frame comes back whole from a ws echo server`, async (t) => {
    const socketPath = join(makeTempDir(t), 'ws.sock')
    await startWsBackend(t, socketPath)
    const socket = connect(socketPath)
    socket.on('error', () => {})
    t.teardown(() => socket.destroy())
    const payload = Buffer.alloc(size, 0x78)
    let received = Buffer.alloc(0)
    let upgraded = false
    const echoed = new Promise<Buffer>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk])
        if (!upgraded) {
          const end = received.indexOf('\r\n\r\n')
          if (end === -1) return
          t.match(received.subarray(0, end).toString(), /^HTTP\/1\.1 101 /)
          received = received.subarray(end + 4)
          upgraded = true
          socket.write(maskedFrame(payload, 0x1, Buffer.from([1, 2, 3, 4])))
        }
        const n = frameLength(received)
        if (n > 0) resolve(received.subarray(0, n))
        // Until then, every prefix must read as incomplete.
        else t.equal(n, 0)
      })
    })
    socket.write(HANDSHAKE)
    const frame = await withTimeout(echoed, 10_000, 'the echo')
    t.equal(frame[0], 0x81, 'FIN and text opcode')
    t.ok(frame.subarray(frame.length - size).equals(payload), 'the payload, unmasked')
    t.equal(frame.length, size + (size < 126 ? 2 : size < 65_536 ? 4 : 10), 'header length by payload size')
  })
}

t.test('frameLength says 0 for a frame whose header is not all there', async (t) => {
  t.equal(frameLength(Buffer.from([0x81])), 0)
  t.equal(frameLength(Buffer.from([0x81, 126, 0x01])), 0)
  t.equal(frameLength(Buffer.from([0x81, 0x02, 0x61])), 0)
  t.equal(frameLength(Buffer.from([0x81, 0x02, 0x61, 0x62])), 4)
})
