import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls'
import { withTimeout } from './wait-for.js'

/**
 * A fresh TLS connection (never a resumed session: that would report the
 * certificate of the session it resumes) to 127.0.0.1:`port`, verified
 * against `ca` for `localhost`. Resolves once the handshake is done; the
 * caller ends it.
 */
export function openTls (port: number, ca: string | string[], options: ConnectionOptions = {}): Promise<TLSSocket> {
  const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ...options })
  const ready = new Promise<TLSSocket>((resolve, reject) => {
    socket.once('secureConnect', () => resolve(socket))
    socket.once('error', reject)
  })
  return withTimeout(ready, 10_000, 'a TLS handshake').catch((err: unknown) => {
    socket.destroy()
    throw err
  })
}

/** The CN of the certificate a new connection to the router is served. */
export async function servedCommonName (port: number, ca: string | string[]): Promise<string> {
  const socket = await openTls(port, ca)
  try {
    return String(socket.getPeerCertificate().subject.CN)
  } finally {
    socket.destroy()
  }
}
