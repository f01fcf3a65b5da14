import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { connect as connectH2, type ClientHttp2Session } from 'node:http2'
import { Agent, request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { startBackend } from './helpers/backend.js'
import { startTestRouter, type TestRouter } from './helpers/router.js'
import { startCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert, type TestCert } from './helpers/tls-cert.js'
import { servedCommonName } from './helpers/tls-client.js'
import { onceWithin, withTimeout } from './helpers/wait-for.js'

/**
 * Issue #13: the certificate and key are reloaded on SIGHUP and when the
 * files change, without dropping a connection; a bad one on reload is logged
 * and the old one stays in use. Every check reads the certificate a real
 * TLS client is served.
 */

const run = promisify(execFile)

interface Setup extends TestRouter {
  readonly dir: string
  readonly old: TestCert
  readonly next: TestCert
  /** Both, for a client that must accept either. */
  readonly ca: string[]
  readonly certFile: string
  readonly keyFile: string
}

/** Two certificates, `old.test` in use and `new.test` to switch to, as the files `certs/router.{crt,key}`. */
async function makeCerts (dir: string): Promise<{ old: TestCert, next: TestCert }> {
  const made = join(dir, 'made')
  mkdirSync(made)
  const [old, next] = await Promise.all([makeTestCert(made, 'old', 'old.test'), makeTestCert(made, 'new', 'new.test')])
  return { old, next }
}

async function setUp (t: Test, place?: (dir: string, old: TestCert) => { certFile: string, keyFile: string }): Promise<Setup> {
  const dir = makeTempDir(t)
  const { old, next } = await makeCerts(dir)
  const certs = join(dir, 'certs')
  mkdirSync(certs)
  const files = place?.(dir, old) ?? { certFile: join(certs, 'router.crt'), keyFile: join(certs, 'router.key') }
  if (place === undefined) {
    writeFileSync(files.certFile, old.cert)
    writeFileSync(files.keyFile, old.key, { mode: 0o600 })
  }
  await startBackend(t, join(dir, 's', 'app', 'web.sock'))
  const router = await startTestRouter(t, { socketDir: join(dir, 's'), listen: [parseListenAddress('https://127.0.0.1:0')], tls: files })
  return { ...router, dir, old, next, ca: [old.cert, next.cert], ...files }
}

const reloaded = (reason: string) => (line: Record<string, unknown>): boolean => line.msg === `TLS certificate reloaded (${reason})`
const notReloaded = (reason: string) => (line: Record<string, unknown>): boolean => typeof line.msg === 'string' && line.msg.startsWith(`TLS certificate not reloaded (${reason})`)

t.test('SIGHUP reloads the certificate: the next connection is served the new one', async (t) => {
  const s = await setUp(t)
  t.equal(await servedCommonName(s.port, s.ca), 'old.test')
  // Renamed into place, so that a file-change reload cannot come first and leave SIGHUP with nothing to do.
  writeFileSync(join(s.dir, 'certs', '.crt'), s.next.cert)
  writeFileSync(join(s.dir, 'certs', '.key'), s.next.key)
  renameSync(join(s.dir, 'certs', '.key'), s.keyFile)
  renameSync(join(s.dir, 'certs', '.crt'), s.certFile)
  t.equal(await s.router.reloadTls('SIGHUP'), true)
  t.match(await s.waitForLog(reloaded('SIGHUP')), { level: 30, cert: s.certFile, reason: 'SIGHUP', subject: /new\.test/ })
  t.equal(await servedCommonName(s.port, s.ca), 'new.test')
})

t.test('a certificate and key overwritten in place are reloaded on the file change', async (t) => {
  const s = await setUp(t)
  t.equal(await servedCommonName(s.port, s.ca), 'old.test')
  writeFileSync(s.certFile, s.next.cert)
  writeFileSync(s.keyFile, s.next.key)
  await s.waitForLog(reloaded('file change'))
  t.equal(await servedCommonName(s.port, s.ca), 'new.test')
})

t.test('a certificate and key renamed over the old files, as mv does, are reloaded', async (t) => {
  const s = await setUp(t)
  t.equal(await servedCommonName(s.port, s.ca), 'old.test')
  // mv across directories of one filesystem is rename(2): the old inode goes, a new one takes its name.
  await run('mv', ['-f', s.next.keyFile, s.keyFile])
  await run('mv', ['-f', s.next.certFile, s.certFile])
  await s.waitForLog(reloaded('file change'))
  t.equal(await servedCommonName(s.port, s.ca), 'new.test')
})

t.test('a certbot-style renewal (new archive files, live/ symlinks re-pointed) is reloaded', async (t) => {
  // certbot keeps archive/NAME/fullchainN.pem and re-points live/NAME/fullchain.pem at the newest (unlink, then symlink).
  const s = await setUp(t, (dir, old) => {
    const archive = join(dir, 'letsencrypt', 'archive', 'router')
    const live = join(dir, 'letsencrypt', 'live', 'router')
    mkdirSync(archive, { recursive: true })
    mkdirSync(live, { recursive: true })
    writeFileSync(join(archive, 'fullchain1.pem'), old.cert)
    writeFileSync(join(archive, 'privkey1.pem'), old.key, { mode: 0o600 })
    symlinkSync('../../archive/router/fullchain1.pem', join(live, 'fullchain.pem'))
    symlinkSync('../../archive/router/privkey1.pem', join(live, 'privkey.pem'))
    return { certFile: join(live, 'fullchain.pem'), keyFile: join(live, 'privkey.pem') }
  })
  t.equal(await servedCommonName(s.port, s.ca), 'old.test')
  const archive = join(s.dir, 'letsencrypt', 'archive', 'router')
  writeFileSync(join(archive, 'fullchain2.pem'), s.next.cert)
  writeFileSync(join(archive, 'privkey2.pem'), s.next.key, { mode: 0o600 })
  for (const [link, target] of [[s.certFile, 'fullchain2.pem'], [s.keyFile, 'privkey2.pem']] as const) {
    unlinkSync(link)
    symlinkSync(`../../archive/router/${target}`, link)
  }
  await s.waitForLog(reloaded('file change'))
  t.equal(await servedCommonName(s.port, s.ca), 'new.test')
})

t.test('a Kubernetes-style secret update (the ..data symlink swapped) is reloaded', async (t) => {
  // A mounted secret: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/; an update
  // writes a new ..<timestamp>/ and renames a new ..data over the old one. The
  // files named on the command line never change themselves.
  const s = await setUp(t, (dir, old) => {
    const mount = join(dir, 'secret')
    mkdirSync(join(mount, '..v1'), { recursive: true })
    writeFileSync(join(mount, '..v1', 'tls.crt'), old.cert)
    writeFileSync(join(mount, '..v1', 'tls.key'), old.key, { mode: 0o600 })
    symlinkSync('..v1', join(mount, '..data'))
    symlinkSync('..data/tls.crt', join(mount, 'tls.crt'))
    symlinkSync('..data/tls.key', join(mount, 'tls.key'))
    return { certFile: join(mount, 'tls.crt'), keyFile: join(mount, 'tls.key') }
  })
  t.equal(await servedCommonName(s.port, s.ca), 'old.test')
  const mount = join(s.dir, 'secret')
  mkdirSync(join(mount, '..v2'))
  writeFileSync(join(mount, '..v2', 'tls.crt'), s.next.cert)
  writeFileSync(join(mount, '..v2', 'tls.key'), s.next.key, { mode: 0o600 })
  symlinkSync('..v2', join(mount, '..data_tmp'))
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'))
  await s.waitForLog(reloaded('file change'))
  t.equal(await servedCommonName(s.port, s.ca), 'new.test')
})

t.test('a change in the directory that leaves the certificate as it was reloads nothing', async (t) => {
  const s = await setUp(t)
  writeFileSync(join(s.dir, 'certs', 'unrelated.txt'), 'x')
  await s.waitForLog((l) => l.msg === 'TLS certificate files unchanged, nothing to reload')
  t.notOk(s.logs.some(reloaded('file change')), 'no "reloaded" line for a certificate that did not change')
  t.equal(await servedCommonName(s.port, s.ca), 'old.test')
})

function getOverAgent (port: number, agent: Agent): Promise<{ status: number, reused: boolean, socket: TLSSocket }> {
  return withTimeout(new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/app/web/', agent }, (res) => {
      // Taken now: once the body is read, the agent takes the socket back and res.socket is null.
      const socket = res.socket as TLSSocket
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, socket }))
    })
    req.on('error', reject)
    req.end()
  }), 10_000, 'an HTTPS request')
}

function getOverH2 (session: ClientHttp2Session): Promise<number> {
  return withTimeout(new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/app/web/' })
    stream.on('response', (headers) => {
      stream.resume()
      stream.on('end', () => resolve(Number(headers[':status'])))
    })
    stream.on('error', reject)
    stream.end()
  }), 10_000, 'an HTTP/2 request')
}

t.test('an open HTTP/1.1 keep-alive connection and an open HTTP/2 session outlive a reload', async (t) => {
  const s = await setUp(t)
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: s.ca, servername: 'localhost', maxCachedSessions: 0, ALPNProtocols: ['http/1.1'] })
  t.teardown(() => agent.destroy())
  const first = await getOverAgent(s.port, agent)
  t.equal(first.status, 200)
  t.equal(first.socket.alpnProtocol, 'http/1.1')
  const session = connectH2(`https://127.0.0.1:${s.port}`, { ca: s.ca, servername: 'localhost' })
  session.on('error', () => {})
  t.teardown(() => session.destroy())
  t.equal(await getOverH2(session), 200)
  t.equal((session.socket as TLSSocket).alpnProtocol, 'h2')

  writeFileSync(s.certFile, s.next.cert)
  writeFileSync(s.keyFile, s.next.key)
  t.equal(await s.router.reloadTls('SIGHUP'), true)
  t.equal(await servedCommonName(s.port, s.ca), 'new.test', 'new connections get the new certificate')

  const second = await getOverAgent(s.port, agent)
  t.equal(second.status, 200)
  t.ok(second.reused, 'the second request went over the same keep-alive connection')
  t.equal(second.socket, first.socket)
  t.equal(second.socket.getPeerCertificate().subject.CN, 'old.test', 'which keeps the certificate it was made with')
  t.equal(await getOverH2(session), 200, 'the HTTP/2 session made before the reload still serves')
  t.equal((session.socket as TLSSocket).getPeerCertificate().subject.CN, 'old.test')
  t.notOk(session.closed || session.destroyed, 'and is still open')
})

/** Ways a reload can find the files unusable; each must leave `old.test` in use. */
const BAD_RELOADS: ReadonlyArray<[string, (s: Setup) => Promise<void> | void, RegExp]> = [
  ['garbage instead of a certificate', (s) => { writeFileSync(s.certFile, 'garbage\n') }, /is not a PEM certificate/],
  ['a key that does not match the certificate', (s) => { writeFileSync(s.certFile, s.next.cert); writeFileSync(s.keyFile, s.old.key) }, /does not match the certificate/],
  ['a missing certificate file', (s) => { rmSync(s.certFile) }, /cannot read the TLS certificate .*: no such file/],
  ['garbage instead of a key', (s) => { writeFileSync(s.certFile, s.old.cert); writeFileSync(s.keyFile, 'garbage\n') }, /is not a PEM private key/],
  ['a chain with a broken certificate after the leaf', (s) => {
    writeFileSync(s.keyFile, s.old.key)
    writeFileSync(s.certFile, `${s.old.cert}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`)
  }, /cannot be used/],
  ['a 512-bit RSA key OpenSSL refuses', async (s) => {
    const weak = join(s.dir, 'made', 'weak')
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:512', '-nodes', '-keyout', `${weak}.key`, '-out', `${weak}.crt`, '-days', '2', '-subj', '/CN=weak.test'])
    writeFileSync(s.keyFile, readFileSync(`${weak}.key`))
    writeFileSync(s.certFile, readFileSync(`${weak}.crt`))
  }, /too small/]
]

t.test('a bad certificate on SIGHUP is logged and the old one stays in use', async (t) => {
  const s = await setUp(t)
  for (const [what, spoil, message] of BAD_RELOADS) {
    await spoil(s)
    t.equal(await s.router.reloadTls('SIGHUP'), false, what)
    const line = await s.waitForLog((l) => notReloaded('SIGHUP')(l) && message.test(String(l.msg)))
    t.match(line, { level: 50, cert: s.certFile, reason: 'SIGHUP' }, what)
    t.notMatch(String(line.msg), /\n|at .*\.ts:\d+/, `${what}: one line, no stack`)
    t.equal(await servedCommonName(s.port, s.ca), 'old.test', `${what}: the old certificate is still served`)
    s.logs.length = 0
  }
  writeFileSync(s.certFile, s.next.cert)
  writeFileSync(s.keyFile, s.next.key)
  t.equal(await s.router.reloadTls('SIGHUP'), true, 'good files again are reloaded')
  t.equal(await servedCommonName(s.port, s.ca), 'new.test')
})

t.test('a bad certificate written over the good one is not reloaded on the file change', async (t) => {
  const s = await setUp(t)
  writeFileSync(s.certFile, 'garbage\n')
  const line = await s.waitForLog(notReloaded('file change'))
  t.match(line, { level: 50, msg: /the old one stays in use: the TLS certificate .* is not a PEM certificate$/ })
  t.equal(await servedCommonName(s.port, s.ca), 'old.test')
  t.notOk(s.logs.some(reloaded('file change')))
})

t.test('SIGHUP to the real CLI process reloads the certificate', async (t) => {
  const dir = makeTempDir(t)
  const { old, next } = await makeCerts(dir)
  const certFile = join(dir, 'router.crt')
  const keyFile = join(dir, 'router.key')
  writeFileSync(certFile, old.cert)
  writeFileSync(keyFile, old.key, { mode: 0o600 })
  const cli = startCli(t, ['--socket-dir', join(dir, 's'), '--listen', 'https://127.0.0.1:0', '--tls-cert', certFile, '--tls-key', keyFile])
  const listening = await cli.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on https://'))
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const port = Number(/:(\d+)$/.exec(String(listening.address))?.[1])
  const ca = [old.cert, next.cert]
  t.equal(await servedCommonName(port, ca), 'old.test')
  writeFileSync(join(dir, '.crt'), next.cert)
  writeFileSync(join(dir, '.key'), next.key)
  renameSync(join(dir, '.key'), keyFile)
  renameSync(join(dir, '.crt'), certFile)
  process.kill(cli.child.pid as number, 'SIGHUP')
  t.match(await cli.waitForLine(reloaded('SIGHUP')), { level: 30, reason: 'SIGHUP', cert: certFile })
  t.equal(await servedCommonName(port, ca), 'new.test')
  t.equal(cli.child.exitCode, null, 'still running')
  const exited = onceWithin(cli.child, 'exit', 'the router to stop')
  cli.child.kill('SIGTERM')
  t.same(await exited, [0, null])
})
