import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { runCli } from './helpers/run-cli.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startOnPty, startTextCli, type TextProcess } from './helpers/text-cli.js'

// Issue #12, item 5: on a terminal (or with --log-format pretty) one line per
// request, `12:00:01.234 GET /chat/ui/x → 200 chat/ui.sock 3.2 ms 1.2 kB`,
// 5xx in red and 4xx in yellow; --log-format json keeps JSON even on a TTY.

const ESC = '\u001b'
const TIME = `${ESC}\\[2m\\d\\d:\\d\\d:\\d\\d\\.\\d{3}${ESC}\\[0m`

async function routerWithThreeOutcomes (t: Parameters<typeof makeTempDir>[0], env: NodeJS.ProcessEnv = {}): Promise<{ cli: TextProcess, base: string }> {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ok.sock'))
  await makeStaleSocket(join(dir, 'svc', 'dead.sock'))
  const cli = startTextCli(t, ['--socket-dir', dir, '--listen', '127.0.0.1:0', '--log-format', 'pretty'], env)
  const [, port] = await cli.waitFor(/listening on 127\.0\.0\.1:(\d+)/)
  await cli.waitFor(/sockrouter ready/)
  return { cli, base: `http://127.0.0.1:${port as string}` }
}

t.test('--log-format pretty: a 200, a 404 and a 502 are one line each, 4xx yellow and 5xx red', async (t) => {
  // tap itself may run with NO_COLOR set; the child must not inherit it here.
  const { cli, base } = await routerWithThreeOutcomes(t, { NO_COLOR: '' })
  t.equal((await httpGet(`${base}/svc/ok/x?y=1`)).status, 200)
  t.equal((await httpGet(`${base}/nope/here`)).status, 404)
  t.equal((await httpGet(`${base}/svc/dead/z`)).status, 502)

  const [ok] = await cli.waitFor(new RegExp(`^${TIME} GET /svc/ok/x\\?y=1 → 200 svc/ok\\.sock \\d+(?:\\.\\d)? (?:ms|s) \\d+ B$`, 'm'))
  t.notMatch(ok, /\u001b\[3[13]m/, 'a 2xx has no status colour')
  await cli.waitFor(new RegExp(`^${TIME} ${ESC}\\[33mGET /nope/here → 404 - \\d+(?:\\.\\d)? (?:ms|s) \\d+ B${ESC}\\[0m$`, 'm'))
  await cli.waitFor(new RegExp(`^${TIME} ${ESC}\\[31mGET /svc/dead/z → 502 svc/dead\\.sock \\d+(?:\\.\\d)? (?:ms|s) \\d+ B${ESC}\\[0m$`, 'm'))

  const lines = cli.output().split('\n').filter((l) => l !== '')
  t.same(lines.filter((l) => !new RegExp(`^${TIME} `).test(l)), [], 'every line starts with the time')
  t.notMatch(cli.output(), /"msg":/, 'no JSON')
  t.equal(lines.filter((l) => l.includes('GET /svc/ok/x')).length, 1, 'one line for the request, not a block')
  t.match(cli.output(), new RegExp(`${TIME} ${ESC}\\[32mINFO ${ESC}\\[0m sockrouter ready .*socketDir=`), 'other lines: time, level, message, key=value fields')
})

t.test('NO_COLOR turns the colours off and keeps the format', async (t) => {
  const { cli, base } = await routerWithThreeOutcomes(t, { NO_COLOR: '1' })
  t.equal((await httpGet(`${base}/svc/dead/z`)).status, 502)
  await cli.waitFor(/^\d\d:\d\d:\d\d\.\d{3} GET \/svc\/dead\/z → 502 svc\/dead\.sock \d+(?:\.\d)? (?:ms|s) \d+ B$/m)
  t.notMatch(cli.output(), /\u001b\[/, 'no escape sequences at all')
})

const readyJson = /\{"level":30,[^\n]*"msg":"sockrouter ready"\}/

t.test('--log-format json on a terminal stays JSON lines', { skip: process.platform !== 'linux' ? 'needs util-linux script(1)' : false }, async (t) => {
  const dir = makeTempDir(t)
  const cli = startOnPty(t, ['--socket-dir', dir, '--listen', '127.0.0.1:0', '--log-format', 'json'])
  const [line] = await cli.waitFor(readyJson)
  t.match(JSON.parse(line), { msg: 'sockrouter ready', socketDir: dir })
  t.notMatch(cli.output(), /INFO/, 'nothing pretty')
  cli.child.kill('SIGTERM')
})

t.test('SOCKROUTER_LOG_FORMAT=json does the same, and a terminal alone means pretty', async (t) => {
  const dir = makeTempDir(t)
  const json = startOnPty(t, ['--socket-dir', join(dir, 'a'), '--listen', '127.0.0.1:0'], { SOCKROUTER_LOG_FORMAT: 'json' })
  await json.waitFor(readyJson)
  json.child.kill('SIGTERM')
  const guessed = startOnPty(t, ['--socket-dir', join(dir, 'b'), '--listen', '127.0.0.1:0'], { SOCKROUTER_LOG_FORMAT: '' })
  await guessed.waitFor(/INFO .*sockrouter ready/)
  t.notMatch(guessed.output(), /"msg":/)
  guessed.child.kill('SIGTERM')
})

t.test('an unknown --log-format is a usage error', async (t) => {
  const res = await runCli(['--log-format', 'xml'])
  t.equal(res.code, 2)
  t.equal(res.stderr, "sockrouter: --log-format: \"xml\" is not json, pretty or auto; see 'sockrouter --help'\n")
})
