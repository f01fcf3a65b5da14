import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestCert {
  readonly certFile: string
  readonly keyFile: string
  /** PEM text of the certificate, for a client's `ca` option. */
  readonly cert: string
  readonly key: string
}

/**
 * A self-signed P-256 certificate for `localhost`, 127.0.0.1 and ::1, made
 * by Debian's openssl as a user following docs/tls-http2.md would (issue #13).
 * `name` keeps several certificates apart in one directory.
 */
export async function makeTestCert (dir: string, name = 'router', commonName = 'localhost'): Promise<TestCert> {
  const certFile = join(dir, `${name}.crt`)
  const keyFile = join(dir, `${name}.key`)
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${commonName}`,
    '-addext', `subjectAltName=DNS:${commonName},DNS:localhost,IP:127.0.0.1,IP:::1`
  ])
  return { certFile, keyFile, cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') }
}
