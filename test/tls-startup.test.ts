import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pino from 'pino'
import t from 'tap'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { startRouter } from '../src/start-router.js'
import { runCli, startCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { openTls } from './helpers/tls-client.js'

/**
 * Issue #13: a bad or missing certificate, or a key that doesn't match, is
 * one clear line naming the file and exit 1 at start, before anything
 * listens; an expired one starts, with a warning.
 */

const run = promisify(execFile)

/**
 * A self-signed certificate valid only on 1 and 2 January 2020. `openssl req
 * -days` takes no past dates and 3.0's `x509` has no `-not_after`, but `openssl
 * ca` takes any `-startdate` and `-enddate`.
 */
async function makeExpiredCert (dir: string): Promise<{ certFile: string, keyFile: string }> {
  const keyFile = join(dir, 'expired.key')
  const certFile = join(dir, 'expired.crt')
  const csr = join(dir, 'expired.csr')
  writeFileSync(join(dir, 'index.txt'), '')
  writeFileSync(join(dir, 'serial'), '01\n')
  writeFileSync(join(dir, 'ca.cnf'), [
    '[ca]', 'default_ca = here', '[here]', `database = ${join(dir, 'index.txt')}`, `new_certs_dir = ${dir}`,
    `serial = ${join(dir, 'serial')}`, 'default_md = sha256', 'policy = any', 'copy_extensions = copy', '[any]', 'commonName = supplied', ''
  ].join('\n'))
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr,
    '-subj', '/CN=expired.test', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'])
  await run('openssl', ['ca', '-config', join(dir, 'ca.cnf'), '-selfsign', '-keyfile', keyFile, '-in', csr, '-out', certFile,
    '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-batch', '-notext'])
  return { certFile, keyFile }
}

t.test('each unusable certificate or key at start is one line naming the file, and exit 1', async (t) => {
  const dir = makeTempDir(t)
  const good = await makeTestCert(dir, 'good')
  const other = await makeTestCert(dir, 'other')
  const junk = join(dir, 'junk.txt')
  writeFileSync(junk, 'not a certificate\n')
  const encrypted = join(dir, 'encrypted.key')
  await run('openssl', ['pkey', '-in', good.keyFile, '-aes256', '-passout', 'pass:secret', '-out', encrypted])
  const weak = join(dir, 'weak')
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:512', '-nodes', '-keyout', `${weak}.key`, '-out', `${weak}.crt`, '-days', '2', '-subj', '/CN=weak.test'])
  const brokenChain = join(dir, 'broken-chain.crt')
  writeFileSync(brokenChain, `${good.cert}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`)
  const missing = join(dir, 'missing.crt')

  const cases: Array<[string, string, string, string]> = [
    ['a missing certificate file', missing, good.keyFile, `cannot read the TLS certificate ${missing}: no such file`],
    ['a directory for the certificate', dir, good.keyFile, `cannot read the TLS certificate ${dir}: it is a directory`],
    ['a missing key file', good.certFile, join(dir, 'missing.key'), `cannot read the TLS key ${join(dir, 'missing.key')}: no such file`],
    ['a certificate that is not PEM', junk, good.keyFile, `the TLS certificate ${junk} is not a PEM certificate`],
    ['a key that is not PEM', good.certFile, junk, `the TLS key ${junk} is not a PEM private key`],
    ['the key and the certificate swapped', good.keyFile, good.certFile, `the TLS certificate ${good.keyFile} is not a PEM certificate`],
    ['a key that does not match the certificate', good.certFile, other.keyFile, `the TLS key ${other.keyFile} does not match the certificate ${good.certFile}`],
    ['an encrypted key', good.certFile, encrypted, `the TLS key ${encrypted} is encrypted: give sockrouter an unencrypted key (readable by its user only)`],
    ['a key too small for OpenSSL', `${weak}.crt`, `${weak}.key`, `the TLS certificate ${weak}.crt with the key ${weak}.key cannot be used: ee key too small: OpenSSL's security level refuses it (use RSA 2048 or more, or ECDSA P-256)`],
    ['a damaged certificate in the chain', brokenChain, good.keyFile, `the TLS certificate ${brokenChain} with the key ${good.keyFile} cannot be used: a certificate of the chain after the first one is damaged (wrong tag)`]
  ]
  for (const [what, certFile, keyFile, message] of cases) {
    const res = await runCli(['--socket-dir', join(dir, 's'), '--listen', 'https://127.0.0.1:0', '--tls-cert', certFile, '--tls-key', keyFile])
    t.equal(res.code, 1, what)
    t.equal(res.stderr, `sockrouter: ${message}\n`, `${what}: one line, no stack`)
    t.notMatch(res.stdout, /listening on/, `${what}: nothing listened`)
  }
})

t.test('TLS flags that do not fit the listeners are one line each', async (t) => {
  const dir = makeTempDir(t)
  const cert = await makeTestCert(dir)
  const socketDir = ['--socket-dir', join(dir, 's')]
  const cases: Array<[string, string[], number, string]> = [
    ['an https listener without --tls-cert and --tls-key', ['--listen', 'https://127.0.0.1:0'], 1,
      'sockrouter: --listen https://127.0.0.1:0 needs --tls-cert FILE and --tls-key FILE\n'],
    ['--tls-cert without --tls-key', ['--listen', 'https://127.0.0.1:0', '--tls-cert', cert.certFile], 2,
      "sockrouter: --tls-cert (SOCKROUTER_TLS_CERT) needs --tls-key (SOCKROUTER_TLS_KEY); see 'sockrouter --help'\n"],
    ['--tls-key without --tls-cert', ['--listen', 'https://127.0.0.1:0', '--tls-key', cert.keyFile], 2,
      "sockrouter: --tls-key (SOCKROUTER_TLS_KEY) needs --tls-cert (SOCKROUTER_TLS_CERT); see 'sockrouter --help'\n"],
    ['--tls-cert and --tls-key with only a plain listener', ['--listen', '127.0.0.1:0', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile], 1,
      'sockrouter: --tls-cert and --tls-key are set, but no --listen https://HOST:PORT address uses them\n'],
    ['--tls-cert and --tls-key with only an h2c listener', ['--listen', 'h2c://127.0.0.1:0', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile], 1,
      'sockrouter: --tls-cert and --tls-key are set, but no --listen https://HOST:PORT address uses them\n']
  ]
  for (const [what, args, code, stderr] of cases) {
    const res = await runCli([...socketDir, ...args])
    t.equal(res.code, code, what)
    t.equal(res.stderr, stderr, what)
  }
})

t.test('an expired certificate starts with a warning and is served', async (t) => {
  const dir = makeTempDir(t)
  const expired = await makeExpiredCert(dir)
  const cli = startCli(t, ['--socket-dir', join(dir, 's'), '--listen', 'https://127.0.0.1:0', '--tls-cert', expired.certFile, '--tls-key', expired.keyFile])
  const warning = await cli.waitForLine((l) => l.level === 40 && l.cert === expired.certFile)
  t.equal(warning.msg, `the TLS certificate ${expired.certFile} is not valid now (it expired 2020-01-02T00:00:00.000Z): clients will refuse it`)
  const listening = await cli.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on https://'))
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const port = Number(/:(\d+)$/.exec(String(listening.address))?.[1])
  // A client that trusts it still refuses it for its dates, as the warning says; one that checks nothing is served it.
  await t.rejects(openTls(port, readFileSync(expired.certFile, 'utf8')), { code: 'CERT_HAS_EXPIRED' })
  const socket = await openTls(port, [], { rejectUnauthorized: false })
  t.equal(socket.getPeerCertificate().subject.CN, 'expired.test')
  t.equal(socket.getPeerCertificate().valid_to, 'Jan  2 00:00:00 2020 GMT')
  socket.destroy()
})

t.test('TLS asked for under socket activation fails at start instead of serving cleartext', async (t) => {
  const dir = makeTempDir(t)
  const cert = await makeTestCert(dir)
  // systemd's sockets replace --listen and are plain TCP; the check comes before any of them is used, so fd 99 is never touched.
  const inheritedFds = [{ fd: 99, address: parseListenAddress('127.0.0.1:9988') }]
  const base = { socketDir: join(dir, 's'), inheritedFds, upstreamTimeoutMs: 60_000, connectTimeoutMs: 5_000, shutdownGraceMs: 1_000, logger: pino({ level: 'silent' }) }
  const message = 'TLS is asked for (--tls-cert or --listen https://), but the listeners come from systemd (LISTEN_FDS) and serve plain HTTP: for TLS, let sockrouter bind --listen https://HOST:PORT itself, without sockrouter.socket'
  await t.rejects(startRouter({ ...base, listen: [parseListenAddress('https://127.0.0.1:0')], tls: cert }), { code: 'tls', message })
  await t.rejects(startRouter({ ...base, listen: [parseListenAddress('127.0.0.1:0')], tls: cert }), { code: 'tls', message }, '--tls-cert alone')
  await t.rejects(startRouter({ ...base, listen: [parseListenAddress('https://127.0.0.1:0')] }), { code: 'tls', message }, 'an https:// --listen alone')
})
