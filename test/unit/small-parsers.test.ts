import t from 'tap'
import { parseDuration } from '../../src/config/parse-duration.js'
import { formatListenAddress, parseListenAddress } from '../../src/listen/listen-address.js'
import { parseOptions } from '../../src/cli/parse-options.js'

t.test('listen addresses', async (t) => {
  t.same(parseListenAddress('127.0.0.1:9988'), { kind: 'tcp', host: '127.0.0.1', port: 9988 })
  t.same(parseListenAddress('[::1]:0'), { kind: 'tcp', host: '::1', port: 0 })
  t.same(parseListenAddress('8080'), { kind: 'tcp', host: '127.0.0.1', port: 8080 })
  t.same(parseListenAddress(':8080'), { kind: 'tcp', host: '0.0.0.0', port: 8080 })
  t.same(parseListenAddress('localhost:1'), { kind: 'tcp', host: 'localhost', port: 1 })
  t.same(parseListenAddress('unix:/tmp/r.sock'), { kind: 'unix', path: '/tmp/r.sock' })
  for (const bad of ['unix:', 'host:port', '1.2.3.4:70000', 'a:b:c', '']) t.throws(() => parseListenAddress(bad), bad)
  t.equal(formatListenAddress({ kind: 'tcp', host: '::1', port: 5 }), '[::1]:5')
  t.equal(formatListenAddress({ kind: 'unix', path: '/x' }), 'unix:/x')
})

t.test('durations', async (t) => {
  t.equal(parseDuration('500ms'), 500)
  t.equal(parseDuration('5s'), 5000)
  t.equal(parseDuration('1.5s'), 1500)
  t.equal(parseDuration('10m'), 600_000)
  t.equal(parseDuration('1h'), 3_600_000)
  t.equal(parseDuration('7'), 7000)
  t.equal(parseDuration('0'), 0, '0 means no timeout')
  for (const bad of ['', 's', '-1s', '5 min', '1d', '1000h']) t.throws(() => parseDuration(bad), bad)
})

t.test('options: flags beat env vars, env vars beat defaults', async (t) => {
  const defaults = parseOptions([], {})
  t.equal(defaults.command, 'run')
  t.ok(defaults.socketDir.endsWith('/hero/var/sockets'))
  t.equal(defaults.socketDirDefaulted, true)
  t.same(defaults.listen, [{ kind: 'tcp', host: '127.0.0.1', port: 9988 }])
  t.equal(defaults.upstreamTimeoutMs, 60_000)
  t.equal(defaults.connectTimeoutMs, 5000)
  t.equal(defaults.shutdownGraceMs, 5000)
  t.equal(defaults.logLevel, 'info')

  const env = { SOCKROUTER_SOCKET_DIR: '/s', HERO_SOCKET_DIR: '/h', SOCKROUTER_LISTEN: '1.2.3.4:1, unix:/r.sock', SOCKROUTER_UPSTREAM_TIMEOUT: '2s', SOCKROUTER_LOG_LEVEL: 'warn' }
  const fromEnv = parseOptions([], env)
  t.equal(fromEnv.socketDir, '/s')
  t.equal(fromEnv.socketDirDefaulted, false)
  t.same(fromEnv.listen, [{ kind: 'tcp', host: '1.2.3.4', port: 1 }, { kind: 'unix', path: '/r.sock' }])
  t.equal(fromEnv.upstreamTimeoutMs, 2000)
  t.equal(fromEnv.logLevel, 'warn')
  t.equal(parseOptions([], { HERO_SOCKET_DIR: '/h' }).socketDir, '/h')

  const fromFlags = parseOptions(['demo', '--socket-dir', '/f', '--listen', '1', '--listen', '2', '--upstream-timeout', '3s', '--log-level', 'debug'], env)
  t.equal(fromFlags.command, 'demo')
  t.equal(fromFlags.socketDir, '/f')
  t.same(fromFlags.listen.map((l) => l.kind === 'tcp' ? l.port : l.path), [1, 2])
  t.equal(fromFlags.upstreamTimeoutMs, 3000)
  t.equal(fromFlags.logLevel, 'debug')
  t.equal(parseOptions(['--help']).command, 'help')
  t.equal(parseOptions(['--version']).command, 'version')
})

t.test('options: bad input is a UsageError', async (t) => {
  for (const argv of [['--nope'], ['a', 'b'], ['--listen', 'x:y'], ['--connect-timeout', 'never'], ['--log-level', 'chatty'], ['--socket-dir']]) {
    t.throws(() => parseOptions(argv, {}), { code: 'usage' }, argv.join(' '))
  }
})

t.test('the defaults shown in --help and the README are the ones in force', async (t) => {
  const { OPTIONS } = await import('../../src/cli/option-table.js')
  const { ROUTER_DEFAULTS } = await import('../../src/config/router-defaults.js')
  const shown = (flag: string): string => OPTIONS.find((o) => o.flag === flag)?.defaultText ?? ''
  t.equal(parseDuration(shown('upstream-timeout')), ROUTER_DEFAULTS.upstreamTimeoutMs)
  t.equal(parseDuration(shown('connect-timeout')), ROUTER_DEFAULTS.connectTimeoutMs)
  t.equal(parseDuration(shown('shutdown-grace')), ROUTER_DEFAULTS.shutdownGraceMs)
  t.equal(parseDuration(shown('handshake-timeout')), ROUTER_DEFAULTS.handshakeTimeoutMs)
  t.equal(Number(shown('max-tunnels')), ROUTER_DEFAULTS.maxTunnels)
  t.equal(Number(shown('max-tunnels-per-ip')), ROUTER_DEFAULTS.maxTunnelsPerIp)
  t.equal(shown('tunnel-idle-timeout'), 'off', 'shown as off')
  const parsed = parseOptions([], {})
  t.equal(parsed.maxTunnels, ROUTER_DEFAULTS.maxTunnels)
  t.equal(parsed.handshakeTimeoutMs, ROUTER_DEFAULTS.handshakeTimeoutMs)
  t.equal(parsed.tunnelIdleTimeoutMs, ROUTER_DEFAULTS.tunnelIdleTimeoutMs)
})
