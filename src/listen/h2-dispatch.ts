import type { Http2Server } from 'node:http2'
import type { Server as TlsServer, TLSSocket } from 'node:tls'

/** RFC 7301 order of preference: HTTP/2 when the client offers it (RFC 9113 §3.2), else HTTP/1.1. */
export const ALPN_PROTOCOLS = ['h2', 'http/1.1']

type SecureConnectionListener = (this: TlsServer, socket: TLSSocket) => void

/**
 * Hands each TLS connection that chose `h2` by ALPN to the HTTP/2 server
 * (issue #13); node:http's own listener keeps the rest, so HTTP/1.1 over TLS,
 * `wss://` included, is exactly the cleartext listener's code on a TLSSocket.
 * A client that offers no ALPN at all gets HTTP/1.1, as nginx does.
 */
export function sendH2ByAlpn (server: TlsServer, h2: Http2Server): void {
  const http1 = server.listeners('secureConnection') as SecureConnectionListener[]
  server.removeAllListeners('secureConnection')
  server.on('secureConnection', function (this: TlsServer, socket: TLSSocket) {
    if (socket.alpnProtocol === 'h2') {
      h2.emit('connection', socket)
      return
    }
    for (const listener of http1) listener.call(this, socket)
  })
}
