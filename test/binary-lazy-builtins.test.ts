import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startProcess } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'

/**
 * Issue #14, start-up: a plain serve of the single binary, up to its first
 * routed 200 and its exit, never loads node:https, node:tls or node:http2
 * (loading https and tls cost about 10 ms of CPU to the first 200, and
 * 50 ms with NODE_EXTRA_CA_CERTS set, whose file tls then loads;
 * build/snapshot-plugin.mjs makes @fastify/reply-from's unused https.Agent
 * on first use). The binary takes
 * NODE_OPTIONS like any Node, so a --require'd file reports the built-in
 * modules Node loaded (process.moduleLoadList) when the process exits.
 * Runs with SOCKROUTER_TEST_BINARY, as test/binary-smoke.test.ts does.
 */

const BUILT = process.env.SOCKROUTER_TEST_BINARY ?? ''

const REPORTER = `'use strict'
process.on('exit', () => {
  require('node:fs').writeFileSync(process.env.SOCKROUTER_TEST_LOADED, JSON.stringify(process.moduleLoadList))
})
`

if (BUILT === '') {
  t.plan(0, 'SOCKROUTER_TEST_BINARY is unset: run `npm run build:binary` and `SOCKROUTER_TEST_BINARY=$PWD/dist/sockrouter npx tap test/binary-lazy-builtins.test.ts`')
} else {
  t.test('a plain serve, to its first routed 200 and its exit, loads no node:https, tls or http2', async (t) => {
    const home = makeTempDir(t)
    const binary = join(home, 'sockrouter')
    copyFileSync(BUILT, binary)
    chmodSync(binary, 0o755)
    const reporter = join(home, 'report-loaded.cjs')
    const loadedFile = join(home, 'loaded.json')
    writeFileSync(reporter, REPORTER)
    const sockets = join(home, 'sockets')
    await startBackend(t, join(sockets, 'svc', 'ui.sock'))
    const cli = startProcess(t, binary, ['--socket-dir', sockets, '--listen', '127.0.0.1:0'], {
      env: { PATH: '', NODE_OPTIONS: `--require ${reporter}`, SOCKROUTER_TEST_LOADED: loadedFile },
      cwd: home
    })
    const line = await cli.waitForLine((l) => typeof l.address === 'string' && /^127\.0\.0\.1:\d+$/.test(l.address), 30_000)
    const res = await httpGet(`http://${String(line.address)}/svc/ui/hello`)
    t.equal(res.status, 200, 'the first request is routed')
    t.equal(await cli.stop('SIGTERM'), 0)

    const loaded = JSON.parse(readFileSync(loadedFile, 'utf8')) as string[]
    t.ok(loaded.includes('NativeModule http'), 'the report sees the built-ins that were loaded (node:http)')
    for (const name of ['https', 'tls', 'http2']) t.notOk(loaded.includes(`NativeModule ${name}`), `node:${name} not loaded`)
  })
}
