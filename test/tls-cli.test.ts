import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { startTestRouter } from './helpers/router.js'
import { runCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { parseListenAddress } from '../src/listen/listen-address.js'

t.test('sockrouter routes reads an https:// listener and prints via-router commands that work on it', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'sockets', 'svc', 'api.sock'))
  const cert = await makeTestCert(dir)
  const { port } = await startTestRouter(t, { socketDir: join(dir, 'sockets'), listen: [parseListenAddress('https://127.0.0.1:0')], tls: { certFile: cert.certFile, keyFile: cert.keyFile } })
  const res = await runCli(['routes', '--listen', `https://127.0.0.1:${port}`])
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /\/svc\/api\//)
  t.match(res.stdout, `curl -k https://127.0.0.1:${port}/svc/api/`)
})

t.test('--admin-listen refuses https:// and h2c:// with one usage line: the admin surface is plain HTTP/1.1', async (t) => {
  for (const address of ['https://127.0.0.1:0', 'h2c://127.0.0.1:0']) {
    const res = await runCli(['--admin-listen', address])
    t.equal(res.code, 2)
    t.match(res.stderr, /^sockrouter: --admin-listen: .*use unix:\/path or a loopback HOST:PORT/)
    t.equal(res.stderr.trim().split('\n').length, 1)
  }
})

t.test('routes and top against an h2c:// address say it speaks HTTP/2 only, in one usage line', async (t) => {
  for (const command of ['routes', 'top']) {
    const res = await runCli([command, '--listen', 'h2c://127.0.0.1:9'])
    t.equal(res.code, 1)
    t.match(res.stderr, /^sockrouter: (routes|top): --listen h2c:\/\/127\.0\.0\.1:9 speaks HTTP\/2 only/)
  }
})
