import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * Every flag, its environment variable and default, in one place: the parser,
 * `--help` and the README table (checked by test/docs-options.test.ts) all
 * come from here.
 */
export interface OptionSpec {
  readonly flag: string
  readonly env: readonly string[]
  readonly value: string | null
  readonly defaultText: string
  readonly repeatable?: boolean
  readonly description: string
}

export const DEFAULT_SOCKET_DIR = join(homedir(), 'hero', 'var', 'sockets')

export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'socket-dir', env: ['SOCKROUTER_SOCKET_DIR', 'HERO_SOCKET_DIR'], value: 'DIR', defaultText: '~/hero/var/sockets', description: 'Directory watched for <service>/<name>.sock and <service>.sock. Created if missing.' },
  { flag: 'listen', env: ['SOCKROUTER_LISTEN'], value: 'ADDR', defaultText: '127.0.0.1:9988', repeatable: true, description: 'HOST:PORT, [IPv6]:PORT, PORT or unix:/path. Repeat the flag (or comma-separate the env var) for several. Port 0 picks a free port.' },
  { flag: 'upstream-timeout', env: ['SOCKROUTER_UPSTREAM_TIMEOUT'], value: 'DURATION', defaultText: '60s', description: 'How long to wait for a backend\'s response headers before answering 504. Bodies (SSE, downloads) have no timeout.' },
  { flag: 'connect-timeout', env: ['SOCKROUTER_CONNECT_TIMEOUT'], value: 'DURATION', defaultText: '5s', description: 'How long to wait to connect to a backend socket before answering 504.' },
  { flag: 'shutdown-grace', env: ['SOCKROUTER_SHUTDOWN_GRACE'], value: 'DURATION', defaultText: '5s', description: 'On SIGTERM/SIGINT, how long in-flight requests may finish before connections are cut.' },
  { flag: 'log-level', env: ['SOCKROUTER_LOG_LEVEL'], value: 'LEVEL', defaultText: 'info', description: 'fatal, error, warn, info, debug, trace or silent. JSON lines; pretty on a terminal.' },
  { flag: 'help', env: [], value: null, defaultText: '', description: 'Print usage and exit.' },
  { flag: 'version', env: [], value: null, defaultText: '', description: 'Print the version and exit.' }
]
