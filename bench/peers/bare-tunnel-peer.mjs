import { connect, createServer } from 'node:net'

/**
 * The floor for idle-tunnel memory (issue #14): the least a Node proxy can
 * hold per WebSocket tunnel. It reads the request head, dials the route's
 * socket, writes the head and pipes both ways, checking nothing. Not a
 * proxy to run: bench/tunnel-heap.ts compares sockrouter's heap per tunnel
 * with this one's on the same Node. Plain JavaScript, run without tsx: tsx's
 * keepNames would name every closure it makes per tunnel (see
 * build/drop-per-call-names.mjs). `--port N --socket PATH`: every request
 * target goes to that one socket, its first two path segments cut.
 */
const port = Number(process.argv[process.argv.indexOf('--port') + 1])
const socketPath = process.argv[process.argv.indexOf('--socket') + 1]

const server = createServer((client) => {
  client.on('error', () => client.destroy())
  let head = Buffer.alloc(0)
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk])
    const end = head.indexOf('\r\n\r\n')
    if (end === -1) return
    client.off('data', onData)
    client.pause()
    const text = head.subarray(0, end).toString('latin1')
    let rewritten = Buffer.concat([Buffer.from(text.replace(/ \/[^/ ]*\/[^/ ]*/, ' '), 'latin1'), head.subarray(end)])
    head = Buffer.alloc(0)
    const backend = connect(socketPath)
    backend.on('error', () => { backend.destroy(); client.destroy() })
    backend.once('connect', () => {
      backend.write(rewritten)
      rewritten = null
      client.pipe(backend)
      backend.pipe(client)
      client.resume()
    })
    client.on('close', () => backend.destroy())
    backend.on('close', () => client.destroy())
  }
  client.on('data', onData)
})
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'))
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
