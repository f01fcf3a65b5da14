import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { clusterReady, spreadUntilServedBy } from './helpers/cluster-router.js'
import { startCli, type RunningCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { withTimeout } from './helpers/wait-for.js'

/**
 * SIGHUP under `--workers 2` (issue #14, with #13's certificate reload): sent
 * to the primary, it reaches every worker. The certificate files and
 * services.d are reached through a symlinked directory, and the test points
 * the symlink elsewhere: neither the workers' certificate watch nor the
 * primary's services.d watch sees that (they watch the old target), so what
 * changes afterwards is SIGHUP's doing alone.
 */

/** Points the symlink `link` at `target` in one rename, as `ln -sfn` followed by `mv -T` does. */
function repoint (link: string, target: string): void {
  symlinkSync(target, `${link}.next`)
  renameSync(`${link}.next`, link)
}

interface Served { readonly commonName: string, readonly worker: number }

/**
 * One HTTPS GET over a fresh connection (no agent, no session resumption):
 * the certificate's CN, and the worker that served it, from the access log.
 */
async function servedOverTls (cli: RunningCli, port: number, ca: string[], path: string): Promise<Served> {
  const commonName = await withTimeout(new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: 'localhost', ca, agent: false }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject.CN)
      res.resume()
      res.on('end', () => resolve(cn))
    })
    req.on('error', reject)
    req.end()
  }), 10_000, `GET ${path} over TLS`)
  const logged = await cli.waitForLine((l) => l.url === path && typeof l.worker === 'number')
  return { commonName, worker: logged.worker as number }
}

/** Fresh TLS connections until each of `workers` served at least one; every one's CN and worker. */
async function servedByEach (cli: RunningCli, port: number, ca: string[], tag: string, workers: readonly number[]): Promise<Served[]> {
  const served: Served[] = []
  for (let i = 0; !workers.every((w) => served.some((s) => s.worker === w)); i++) {
    if (i >= 20) throw new Error(`after ${i} connections, served by workers ${[...new Set(served.map((s) => s.worker))].join(', ')} only`)
    served.push(await servedOverTls(cli, port, ca, `/app/web/${tag}-${i}`))
  }
  return served
}

t.test('--workers 2: SIGHUP to the primary reloads every worker\'s certificate and services.d', async (t) => {
  const dir = makeTempDir(t)
  const made = join(dir, 'made')
  mkdirSync(made)
  const [old, next] = await Promise.all([makeTestCert(made, 'old', 'old.test'), makeTestCert(made, 'new', 'new.test')])
  for (const [name, cert] of [['certs-old', old], ['certs-new', next]] as const) {
    mkdirSync(join(dir, name))
    writeFileSync(join(dir, name, 'router.crt'), cert.cert)
    writeFileSync(join(dir, name, 'router.key'), cert.key, { mode: 0o600 })
  }
  const certs = join(dir, 'certs')
  symlinkSync('certs-old', certs)

  const sockets = join(dir, 's')
  await startBackend(t, join(sockets, 'app', 'web.sock'))
  const route = (prefix: string): string => `routes:\n  - prefix: ${prefix}\n    socket: app/web.sock\n`
  mkdirSync(join(dir, 'services-old'))
  writeFileSync(join(dir, 'services-old', 'first.yaml'), route('/first'))
  mkdirSync(join(dir, 'services-new'))
  writeFileSync(join(dir, 'services-new', 'first.yaml'), route('/first'))
  writeFileSync(join(dir, 'services-new', 'second.yaml'), route('/second'))
  const services = join(dir, 'services.d')
  symlinkSync('services-old', services)

  const cli = startCli(t, [
    '--workers', '2', '--socket-dir', sockets, '--services-dir', services,
    '--listen', '127.0.0.1:0', '--listen', 'https://127.0.0.1:0',
    '--tls-cert', join(certs, 'router.crt'), '--tls-key', join(certs, 'router.key'),
    '--health-interval', '0', '--log-format', 'json'
  ])
  const { address } = await clusterReady(cli)
  const tlsListening = await cli.waitForLine((l) => typeof l.worker === 'number' && /^https:\/\/127\.0\.0\.1:\d+$/.test(String(l.address)))
  const tlsPort = Number(new URL(String(tlsListening.address)).port)
  const ca = [old.cert, next.cert]

  await t.test('before SIGHUP, both workers serve the old certificate', async (t) => {
    const served = await servedByEach(cli, tlsPort, ca, 'before', [1, 2])
    t.ok(served.every((s) => s.commonName === 'old.test'), served.map((s) => `${s.worker}:${s.commonName}`).join(' '))
  })

  await t.test('after SIGHUP to the primary, new TLS connections to every worker get the new certificate', async (t) => {
    repoint(certs, 'certs-new')
    cli.child.kill('SIGHUP')
    for (const worker of [1, 2]) {
      const line = await cli.waitForLine((l) => l.worker === worker && l.msg === 'TLS certificate reloaded (SIGHUP)')
      t.match(line.subject, /new\.test/, `worker ${worker} logs the new subject`)
    }
    const served = await servedByEach(cli, tlsPort, ca, 'after', [1, 2])
    t.ok(served.every((s) => s.commonName === 'new.test'), served.map((s) => `${s.worker}:${s.commonName}`).join(' '))
    t.notOk(cli.lines.some((l) => l.worker === undefined && String(l.msg).startsWith('TLS certificate')), 'the primary holds no certificate')
  })

  await t.test('after SIGHUP to the primary, a route file services.d gained is routed by every worker', async (t) => {
    // The primary's rescan of the same SIGHUP reads services.d through the re-pointed symlink.
    repoint(services, 'services-new')
    cli.child.kill('SIGHUP')
    await cli.waitForLine((l) => l.msg === 'route added /second/ -> app/web.sock' && l.worker === undefined)
    const results = await spreadUntilServedBy(cli, `http://${address}/second/x`, [1, 2])
    t.ok(results.every((r) => r.status === 200), 'both workers route /second/')
  })

  t.equal(await cli.stop(), 0)
})
