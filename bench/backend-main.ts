/**
 * A backend as a process of its own, so its CPU is not the load generator's
 * or the target's. `--role http`: a node:http service answering ~100 B of JSON
 * (and 1 MiB on `/big`). `--role ws`: a `ws` echo server. `--role closing`:
 * the same JSON with Content-Length, then the connection closed without a
 * `Connection: close` (issue #10's keep-alive race). Prints `ready` once
 * listening on `--socket`, and exits when the harness goes away.
 */
import { rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'
import { BIG_BODY_BYTES, SMALL_JSON } from './backend-bodies.js'

const role = process.argv[process.argv.indexOf('--role') + 1]
const socketPath = process.argv[process.argv.indexOf('--socket') + 1]
if (socketPath === undefined || (role !== 'http' && role !== 'ws' && role !== 'closing')) {
  process.stderr.write('usage: backend-main.ts --role http|ws|closing --socket PATH\n')
  process.exit(2)
}

const small = Buffer.from(SMALL_JSON)
const big = Buffer.alloc(BIG_BODY_BYTES, 'sockrouter-bench ')
const smallHeaders = { 'content-type': 'application/json', 'content-length': String(small.length) }
const bigHeaders = { 'content-type': 'application/octet-stream', 'content-length': String(big.length) }

const server = createServer((req, res) => {
  // Drained, so a POST body never holds the connection.
  req.resume()
  if (req.url === '/big') {
    res.writeHead(200, bigHeaders)
    res.end(big)
  } else {
    res.writeHead(200, smallHeaders)
    res.end(small)
  }
  // Closes the moment the response is out, as a backend with a tiny keep-alive timeout does.
  if (role === 'closing') res.once('finish', () => res.socket?.destroy())
})
// Keep connections as long as the proxies do; Node's 5 s default would churn pools between runs.
server.keepAliveTimeout = 120_000

if (role === 'ws') {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 })
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate())
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }))
    })
  })
}

rmSync(socketPath, { force: true })
server.listen(socketPath, () => process.stdout.write('ready\n'))

// The harness holds our stdin open; EOF means it is gone, so we go too.
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
