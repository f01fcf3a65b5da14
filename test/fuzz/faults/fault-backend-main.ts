/**
 * A backend the fault scenarios can SIGKILL (issue #10): its own process on
 * a unix socket. `/stall` never answers, `/hold` sends a head and one chunk
 * and then nothing, anything else gets 200; WebSocket upgrades echo.
 */
import { rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { WebSocketServer } from 'ws'

const socketPath = process.argv[2] ?? ''
const server = createServer((req, res) => {
  req.on('error', () => {})
  req.resume()
  // Tells the scenario the request is in, so it kills the backend with the request provably held.
  if (req.url === '/stall') { process.send?.('stall'); return }
  if (req.url === '/hold') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('part of a body that never ends\n')
    return
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 })
  res.end('ok\n')
})
server.on('connection', (s: Socket) => s.on('error', () => s.destroy()))
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
server.on('upgrade', (req, socket: Socket, head) => {
  socket.on('error', () => socket.destroy())
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => ws.terminate())
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }))
  })
})
rmSync(socketPath, { force: true })
server.listen(socketPath, () => process.send?.('ready'))
process.on('disconnect', () => process.exit(0))
