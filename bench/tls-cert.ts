import { execFile } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface BenchCert {
  readonly certFile: string
  readonly keyFile: string
}

/**
 * One self-signed P-256 certificate per run for 127.0.0.1, made by openssl
 * in the run's temp dir (removed with it), which both TLS peers serve, so
 * neither gets a cheaper key (issue #13). null, with the reason, when openssl
 * is missing or fails.
 *
 * It gets a directory of its own, as certificates usually have: sockrouter
 * watches the certificate's directory for reloads, and next to the access
 * log the harness keeps in the temp dir, every log write would cost it a
 * chokidar lstat (a quarter of its CPU in an h2-small profile).
 */
export async function makeBenchCert (tempDir: string): Promise<{ cert: BenchCert | null, why: string | null }> {
  const dir = join(tempDir, 'tls')
  mkdirSync(dir, { recursive: true })
  const certFile = join(dir, 'bench.crt')
  const keyFile = join(dir, 'bench.key')
  try {
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'
    ])
    return { cert: { certFile, keyFile }, why: null }
  } catch (err) {
    return { cert: null, why: `openssl could not make a certificate (${(err as Error).message.split('\n')[0] ?? ''})` }
  }
}
