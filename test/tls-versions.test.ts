import { join } from 'node:path'
import t from 'tap'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { openTls } from './helpers/tls-client.js'

/**
 * Issue #13: TLS 1.2 and later. The TLS 1.1 client below lowers its own
 * OpenSSL security level, so what refuses it is the router's minimum
 * version (a protocol_version alert, RFC 8446 §6.2), not the client.
 */

t.test('the https listener speaks TLS 1.2 and 1.3 and refuses TLS 1.1 with protocol_version', async (t) => {
  const dir = makeTempDir(t)
  const cert = await makeTestCert(dir)
  const { port } = await startTestRouter(t, { socketDir: join(dir, 's'), listen: [parseListenAddress('https://127.0.0.1:0')], tls: cert })
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const socket = await openTls(port, cert.cert, { minVersion: version, maxVersion: version })
    t.equal(socket.getProtocol(), version)
    socket.destroy()
  }
  await t.rejects(openTls(port, cert.cert, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }),
    { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' })
})
