import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { SecureContextOptions } from 'node:tls'

/** `--tls-cert` and `--tls-key` (issue #13). */
export interface TlsFiles {
  readonly certFile: string
  readonly keyFile: string
}

/** What a TLS listener is started or reloaded with, and what the log says about it. */
export interface TlsCredentials {
  readonly context: SecureContextOptions
  readonly subject: string
  /** ISO date the certificate expires. */
  readonly validTo: string
  /** True when the certificate is outside its validity dates now: it is used anyway, with a warning. */
  readonly expired: boolean
}

/** A certificate or key that cannot be used; the message is the one line the operator sees. */
export class TlsCredentialsError extends Error {
  readonly code = 'tls_credentials'
}

/**
 * TLS 1.2 and later, as Mozilla's "intermediate" profile, nginx and Caddy
 * default to; the cipher list stays Node's own (issue #13: Node's defaults).
 */
const MIN_VERSION = 'TLSv1.2'

function readReason (err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT': return 'no such file'
    case 'EACCES': return 'permission denied'
    case 'EISDIR': return 'it is a directory'
    default: return err.code ?? err.message
  }
}

async function readPem (file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new TlsCredentialsError(`cannot read the TLS ${what} ${file}: ${readReason(err as NodeJS.ErrnoException)}`)
  }
}

function parseCertificate (pem: string, file: string): X509Certificate {
  try {
    return new X509Certificate(pem)
  } catch {
    throw new TlsCredentialsError(`the TLS certificate ${file} is not a PEM certificate`)
  }
}

function parseKey (pem: string, file: string): KeyObject {
  try {
    return createPrivateKey(pem)
  } catch (err) {
    const encrypted = /passphrase/i.test((err as Error).message)
    throw new TlsCredentialsError(encrypted
      ? `the TLS key ${file} is encrypted: give sockrouter an unencrypted key (readable by its user only)`
      : `the TLS key ${file} is not a PEM private key`)
  }
}

/**
 * Reads and checks a certificate (with its chain, leaf first) and its key.
 * Every way they can be unusable is one clear line: missing or unreadable,
 * not PEM, an encrypted key, or a key that does not belong to the
 * certificate. Node would only say "key values mismatch" or "no start line"
 * when the first client connects.
 */
export async function loadTlsCredentials (files: TlsFiles): Promise<TlsCredentials> {
  const [cert, key] = await Promise.all([readPem(files.certFile, 'certificate'), readPem(files.keyFile, 'key')])
  const leaf = parseCertificate(cert, files.certFile)
  const privateKey = parseKey(key, files.keyFile)
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsCredentialsError(`the TLS key ${files.keyFile} does not match the certificate ${files.certFile}`)
  }
  const now = Date.now()
  const validTo = new Date(leaf.validTo)
  return {
    context: { cert, key, minVersion: MIN_VERSION },
    subject: leaf.subjectAltName ?? leaf.subject.replace(/\n/g, ', '),
    validTo: validTo.toISOString(),
    expired: now > validTo.getTime() || now < new Date(leaf.validFrom).getTime()
  }
}
