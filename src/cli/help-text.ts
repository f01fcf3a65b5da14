import { OPTIONS } from './option-table.js'

export function helpText (version: string): string {
  const rows = OPTIONS.map((o) => {
    const flag = `--${o.flag}${o.value === null ? '' : ' ' + o.value}`
    const env = o.env.length > 0 ? ` [env ${o.env.join(', then ')}]` : ''
    const def = o.defaultText === '' ? '' : ` (default ${o.defaultText})`
    return `  ${flag.padEnd(32)}${o.description}${def}${env}`
  })
  return [
    `sockrouter ${version}: one HTTP port in front of every Unix-socket service`,
    '',
    'Usage:',
    '  sockrouter [run] [options]   route /<service>/<name>/… to DIR/<service>/<name>.sock',
    '  sockrouter demo [options]    the same, plus a demo service at /demo/ui/ (socket dir ./run/sockets, the repo\'s services.d)',
    '  sockrouter check [options]   validate --socket-dir and --services-dir once, print the route table; exit 1 on any error',
    '  sockrouter routes [--listen ADDR] [--admin-listen ADDR]  print a running router\'s routes with curl commands to reach each one',
    '  sockrouter top [--listen ADDR]     a running router live in the terminal: rates, errors, latency, health, tunnels (q quits)',
    '',
    'Options:',
    ...rows,
    '',
    'Signals: SIGTERM/SIGINT shut down gracefully, SIGHUP rescans the socket dir and reloads services.d and the TLS certificate.',
    'With --workers N, send them to the primary (the process started), which passes them on to every worker.',
    ''
  ].join('\n')
}
