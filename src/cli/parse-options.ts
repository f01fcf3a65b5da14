import { dirname, join, resolve } from 'node:path'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { parseDuration } from '../config/parse-duration.js'
import { ROUTER_DEFAULTS } from '../config/router-defaults.js'
import { parseProxyRange } from '../forward/trusted-proxies.js'
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../listen/listen-address.js'
import type { TlsFiles } from '../listen/tls-credentials.js'
import type { LogFormat, LogLevel } from '../logging/create-logger.js'
import { defaultSocketDir, OPTIONS } from './option-table.js'

export type Command = 'run' | 'demo' | 'check' | 'routes' | 'top' | 'help' | 'version'

export interface CliOptions {
  readonly command: Command
  readonly socketDir: string
  /** True when neither the flag nor an env var chose the socket dir. */
  readonly socketDirDefaulted: boolean
  readonly servicesDir: string
  /** True when neither the flag nor its env var chose the services dir. */
  readonly servicesDirDefaulted: boolean
  readonly listen: readonly ListenAddress[]
  /** `--admin-listen` (issue #12). */
  readonly adminListen: readonly ListenAddress[]
  readonly publicAdmin: boolean
  readonly upstreamTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly shutdownGraceMs: number
  readonly logLevel: LogLevel
  /** `auto` unless --log-format or SOCKROUTER_LOG_FORMAT chose (issue #12). */
  readonly logFormat: LogFormat
  readonly allowedHosts: readonly string[]
  readonly allowedOrigins: readonly string[]
  readonly trustedProxies: readonly string[]
  readonly maxTunnels: number
  readonly maxTunnelsPerIp: number
  readonly handshakeTimeoutMs: number
  readonly tunnelIdleTimeoutMs: number
  /** Undefined: derived from the fd limit when the router starts. */
  readonly maxConnections: number | undefined
  readonly maxConnectionsPerIp: number
  readonly headerTimeoutMs: number
  readonly bodyIdleTimeoutMs: number
  /** Active health checks (issue #12); 0 = off. */
  readonly healthIntervalMs: number
  readonly healthPath: string
  /** `--tls-cert` and `--tls-key` (issue #13), absolute; null when neither is given. */
  readonly tls: TlsFiles | null
  /** `--workers` (issue #14): 1 = one process, no cluster; `auto` is resolved to the core count here. */
  readonly workers: number
}

export class UsageError extends Error {
  readonly code = 'usage'
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
const LOG_FORMATS = new Set(['json', 'pretty', 'auto'])
const COMMANDS = new Set(['run', 'demo', 'check', 'routes', 'top'])

type Env = Readonly<Record<string, string | undefined>>

function fromEnv (env: Env, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = env[name]
    if (value !== undefined && value !== '') return value
  }
  return undefined
}

function envNames (flag: string): readonly string[] {
  return OPTIONS.find((o) => o.flag === flag)?.env ?? []
}

function durationOption (flag: string, cli: string | undefined, env: Env, fallback: number): number {
  const text = cli ?? fromEnv(env, envNames(flag))
  if (text === undefined) return fallback
  try {
    return parseDuration(text)
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`)
  }
}

function countOption (flag: string, cli: string | undefined, env: Env, fallback: number): number {
  const text = cli ?? fromEnv(env, envNames(flag))
  if (text === undefined) return fallback
  if (!/^\d{1,9}$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`--${flag}: "${text}" is not a whole number of at least 1`)
  return Number(text)
}

/** Issue #14: N ≥ 1, or `auto` for one worker per core. */
function workersOption (cli: string | undefined, env: Env): number {
  const text = cli ?? fromEnv(env, envNames('workers'))
  if (text?.trim().toLowerCase() === 'auto') return availableParallelism()
  return countOption('workers', text, env, 1)
}

/** A count whose default is only known at startup. */
function optionalCount (flag: string, cli: string | undefined, env: Env): number | undefined {
  const fallback = -1
  const count = countOption(flag, cli, env, fallback)
  return count === fallback ? undefined : count
}

/** A flag without a value, or its env var: 1, true or yes turn it on, 0, false, no or empty leave it off. */
function switchOption (flag: string, cli: boolean | undefined, env: Env): boolean {
  if (cli === true) return true
  const text = fromEnv(env, envNames(flag))?.trim().toLowerCase()
  if (text === undefined || text === '0' || text === 'false' || text === 'no') return false
  if (text === '1' || text === 'true' || text === 'yes') return true
  throw new UsageError(`${envNames(flag).join(', ')}: "${text}" is not 1, true, yes, 0, false or no`)
}

/** A repeatable flag, else its env var split on commas. */
function listOption (flag: string, cli: string[] | undefined, env: Env): string[] {
  const texts = cli ?? fromEnv(env, envNames(flag))?.split(',') ?? []
  return texts.map((s) => s.trim()).filter((s) => s !== '')
}

const PARSE_OPTIONS = Object.fromEntries(OPTIONS.map((o) => [o.flag, {
  type: o.value === null ? 'boolean' as const : 'string' as const,
  multiple: o.repeatable === true
}]))

/**
 * The first flag strict parsing refused, said in one short line. parseArgs'
 * own message for an unknown flag is a paragraph about positional arguments,
 * which sockrouter has none of that start with `-` (issue #10).
 */
function describeBadFlag (argv: readonly string[]): string | null {
  const { tokens } = parseArgs({ args: [...argv], allowPositionals: true, strict: false, tokens: true, options: PARSE_OPTIONS })
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    const option = OPTIONS.find((o) => o.flag === token.name)
    if (option === undefined) return `unknown option ${token.rawName}`
    if (option.value === null && token.value !== undefined) return `${token.rawName} takes no value`
    // Non-strict parsing takes the next argument as the value even when it is a flag.
    if (option.value !== null && (token.value === undefined || (token.inlineValue !== true && token.value.startsWith('-')))) {
      return `${token.rawName} needs a value (${token.rawName} ${option.value})`
    }
  }
  return null
}

/** argv (without node and script) plus the environment → validated options. Throws UsageError. */
export function parseOptions (argv: readonly string[], env: Env = process.env): CliOptions {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: PARSE_OPTIONS })
  } catch (err) {
    throw new UsageError(describeBadFlag(argv) ?? (err as Error).message.split('\n')[0] ?? 'bad arguments')
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>
  const positionals = parsed.positionals
  if (positionals.length > 1 || (positionals[0] !== undefined && !COMMANDS.has(positionals[0]))) {
    throw new UsageError(`unknown command "${positionals.join(' ')}" (expected run, demo, check, routes or top)`)
  }
  const command: Command = values.help === true ? 'help' : values.version === true ? 'version' : (positionals[0] as Command | undefined) ?? 'run'

  const cliDir = values['socket-dir'] as string | undefined
  const envDir = fromEnv(env, envNames('socket-dir'))
  const listenTexts = (values.listen as string[] | undefined) ??
    fromEnv(env, envNames('listen'))?.split(',').filter((s) => s.trim() !== '') ?? ['127.0.0.1:9988']
  let listen: ListenAddress[]
  try {
    listen = listenTexts.map(parseListenAddress)
  } catch (err) {
    throw new UsageError(`--listen: ${(err as Error).message}`)
  }
  let adminListen: ListenAddress[]
  try {
    adminListen = listOption('admin-listen', values['admin-listen'] as string[] | undefined, env).map(parseListenAddress)
  } catch (err) {
    throw new UsageError(`--admin-listen: ${(err as Error).message}`)
  }
  // The admin surface is for this host's operator (issue #12): a unix socket or loopback, where TLS adds nothing (issue #13).
  const secureAdmin = adminListen.find((a) => a.kind === 'tcp' && a.scheme !== undefined)
  if (secureAdmin !== undefined) throw new UsageError(`--admin-listen: ${formatListenAddress(secureAdmin)}: the admin surface speaks plain HTTP/1.1; use unix:/path or a loopback HOST:PORT`)
  const logLevel = (values['log-level'] as string | undefined) ?? fromEnv(env, envNames('log-level')) ?? 'info'
  if (!LOG_LEVELS.has(logLevel)) throw new UsageError(`--log-level: "${logLevel}" is not one of ${[...LOG_LEVELS].join(', ')}`)
  const logFormat = (values['log-format'] as string | undefined) ?? fromEnv(env, envNames('log-format')) ?? 'auto'
  if (!LOG_FORMATS.has(logFormat)) throw new UsageError(`--log-format: "${logFormat}" is not json, pretty or auto`)

  const trustedProxies = listOption('trusted-proxy', values['trusted-proxy'] as string[] | undefined, env)
  const badProxy = trustedProxies.find((text) => parseProxyRange(text) === null)
  if (badProxy !== undefined) throw new UsageError(`--trusted-proxy: "${badProxy}" is not an IP address or CIDR`)

  const healthPath = (values['health-path'] as string | undefined) ?? fromEnv(env, envNames('health-path')) ?? ROUTER_DEFAULTS.healthPath
  if (!/^\/[\x21-\x7e]*$/.test(healthPath)) throw new UsageError(`--health-path: "${healthPath}" is not a path starting with "/"`)

  const certFile = (values['tls-cert'] as string | undefined) ?? fromEnv(env, envNames('tls-cert'))
  const keyFile = (values['tls-key'] as string | undefined) ?? fromEnv(env, envNames('tls-key'))
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError(certFile === undefined ? '--tls-key (SOCKROUTER_TLS_KEY) needs --tls-cert (SOCKROUTER_TLS_CERT)' : '--tls-cert (SOCKROUTER_TLS_CERT) needs --tls-key (SOCKROUTER_TLS_KEY)')
  const tls = certFile === undefined || keyFile === undefined ? null : { certFile: resolve(certFile), keyFile: resolve(keyFile) }

  const socketDir = resolve(cliDir ?? envDir ?? defaultSocketDir())
  const servicesDirText = (values['services-dir'] as string | undefined) ?? fromEnv(env, envNames('services-dir'))
  return {
    command,
    socketDir,
    socketDirDefaulted: cliDir === undefined && envDir === undefined,
    servicesDir: servicesDirText !== undefined ? resolve(servicesDirText) : join(dirname(socketDir), 'services.d'),
    servicesDirDefaulted: servicesDirText === undefined,
    listen,
    adminListen,
    tls,
    publicAdmin: switchOption('public-admin', values['public-admin'] as boolean | undefined, env),
    upstreamTimeoutMs: durationOption('upstream-timeout', values['upstream-timeout'] as string | undefined, env, ROUTER_DEFAULTS.upstreamTimeoutMs),
    connectTimeoutMs: durationOption('connect-timeout', values['connect-timeout'] as string | undefined, env, ROUTER_DEFAULTS.connectTimeoutMs),
    shutdownGraceMs: durationOption('shutdown-grace', values['shutdown-grace'] as string | undefined, env, ROUTER_DEFAULTS.shutdownGraceMs),
    logLevel: logLevel as LogLevel,
    logFormat: logFormat as LogFormat,
    allowedHosts: listOption('allowed-host', values['allowed-host'] as string[] | undefined, env),
    allowedOrigins: listOption('allowed-origin', values['allowed-origin'] as string[] | undefined, env),
    trustedProxies,
    maxTunnels: countOption('max-tunnels', values['max-tunnels'] as string | undefined, env, ROUTER_DEFAULTS.maxTunnels),
    maxTunnelsPerIp: countOption('max-tunnels-per-ip', values['max-tunnels-per-ip'] as string | undefined, env, ROUTER_DEFAULTS.maxTunnelsPerIp),
    handshakeTimeoutMs: durationOption('handshake-timeout', values['handshake-timeout'] as string | undefined, env, ROUTER_DEFAULTS.handshakeTimeoutMs),
    tunnelIdleTimeoutMs: durationOption('tunnel-idle-timeout', values['tunnel-idle-timeout'] as string | undefined, env, ROUTER_DEFAULTS.tunnelIdleTimeoutMs),
    maxConnections: optionalCount('max-connections', values['max-connections'] as string | undefined, env),
    maxConnectionsPerIp: countOption('max-connections-per-ip', values['max-connections-per-ip'] as string | undefined, env, ROUTER_DEFAULTS.maxConnectionsPerIp),
    headerTimeoutMs: durationOption('header-timeout', values['header-timeout'] as string | undefined, env, ROUTER_DEFAULTS.headerTimeoutMs),
    bodyIdleTimeoutMs: durationOption('body-idle-timeout', values['body-idle-timeout'] as string | undefined, env, ROUTER_DEFAULTS.bodyIdleTimeoutMs),
    healthIntervalMs: durationOption('health-interval', values['health-interval'] as string | undefined, env, ROUTER_DEFAULTS.healthIntervalMs),
    healthPath,
    workers: workersOption(values.workers as string | undefined, env)
  }
}
