import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createSecureContext, type SecureContextOptions } from 'node:tls'

/** `--tls-cert` and `--tls-key` (issue #13). */
export interface TlsFiles {
  readonly certFile: string
  readonly keyFile: string
}

/** What a TLS listener is started or reloaded with, and what the log says about it. */
export interface TlsCredentials {
  readonly context: SecureContextOptions
  readonly subject: string
  /** ISO dates the certificate is valid from and to. */
  readonly validFrom: string
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
  } catch {
    // OpenSSL 3 says only "interrupted or cancelled" (no passphrase callback), so the PEM itself is read.
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m.test(pem)
    throw new TlsCredentialsError(encrypted
      ? `the TLS key ${file} is encrypted: give sockrouter an unencrypted key (readable by its user only)`
      : `the TLS key ${file} is not a PEM private key`)
  }
}

/** OpenSSL's reason without its `error:0A00018F:SSL routines::` prefix. */
function opensslReason (err: Error & { code?: string }): string {
  const reason = err.message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/, '')
  const code = err.code ?? ''
  if (code === 'ERR_SSL_EE_KEY_TOO_SMALL' || code === 'ERR_SSL_CA_KEY_TOO_SMALL') {
    return `${reason}: OpenSSL's security level refuses it (use RSA 2048 or more, or ECDSA P-256)`
  }
  // The leaf and the key parsed already, so what OpenSSL cannot decode is further down the chain.
  if (code.startsWith('ERR_OSSL_ASN1_') || code.startsWith('ERR_OSSL_PEM_')) return `a certificate of the chain after the first one is damaged (${reason})`
  return reason
}

/**
 * What the parses above cannot see, OpenSSL refuses when the context is
 * built: a broken certificate further down the chain, a key too small for
 * its security level, a digest it no longer accepts. Built here, once, so
 * that none of these reaches `tls.createServer` (a stack at start) or
 * `setSecureContext` (a throw in the middle of a reload).
 */
function checkContext (context: SecureContextOptions, files: TlsFiles): void {
  try {
    createSecureContext(context)
  } catch (err) {
    throw new TlsCredentialsError(`the TLS certificate ${files.certFile} with the key ${files.keyFile} cannot be used: ${opensslReason(err as Error)}`)
  }
}

/**
 * Reads and checks a certificate (with its chain, leaf first) and its key.
 * Every way they can be unusable is one clear line: missing or unreadable,
 * not PEM, an encrypted key, a key that does not belong to the certificate,
 * or anything else OpenSSL refuses. Node would only say "key values
 * mismatch" or "no start line" when the first client connects.
 */
export async function loadTlsCredentials (files: TlsFiles): Promise<TlsCredentials> {
  const [cert, key] = await Promise.all([readPem(files.certFile, 'certificate'), readPem(files.keyFile, 'key')])
  const leaf = parseCertificate(cert, files.certFile)
  const privateKey = parseKey(key, files.keyFile)
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsCredentialsError(`the TLS key ${files.keyFile} does not match the certificate ${files.certFile}`)
  }
  const context: SecureContextOptions = { cert, key, minVersion: MIN_VERSION }
  checkContext(context, files)
  const now = Date.now()
  const validFrom = new Date(leaf.validFrom)
  const validTo = new Date(leaf.validTo)
  return {
    context,
    subject: leaf.subjectAltName ?? leaf.subject.replace(/\n/g, ', '),
    validFrom: validFrom.toISOString(),
    validTo: validTo.toISOString(),
    expired: now > validTo.getTime() || now < validFrom.getTime()
  }
}
