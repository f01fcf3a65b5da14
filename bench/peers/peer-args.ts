/** What the harness tells a peer proxy: its port and the `/<svc>/ui` → socket routes. */
export interface PeerRoute {
  /** `/json/ui`: no trailing slash. */
  readonly prefix: string
  readonly socketPath: string
  /** The backend speaks WebSocket. */
  readonly ws: boolean
}

export interface PeerArgs {
  readonly port: number
  readonly routes: readonly PeerRoute[]
}

export function peerArgv (args: PeerArgs): string[] {
  return ['--port', String(args.port), '--routes', JSON.stringify(args.routes)]
}

export function parsePeerArgv (argv: readonly string[]): PeerArgs {
  const port = Number(argv[argv.indexOf('--port') + 1])
  const routes = JSON.parse(argv[argv.indexOf('--routes') + 1] ?? '[]') as PeerRoute[]
  if (!Number.isInteger(port) || routes.length === 0) throw new Error('usage: --port N --routes JSON')
  return { port, routes }
}

/** `/<svc>/<name>/rest?q` → the route and `/rest?q`, as every target strips the prefix. */
export function matchPrefix (routes: readonly PeerRoute[], url: string): { route: PeerRoute, rest: string } | null {
  for (const route of routes) {
    if (!url.startsWith(route.prefix)) continue
    const rest = url.slice(route.prefix.length)
    if (rest === '' || rest.startsWith('/')) return { route, rest: rest === '' ? '/' : rest }
    if (rest.startsWith('?')) return { route, rest: `/${rest}` }
  }
  return null
}

/** Peers exit with the harness: it holds their stdin open. */
export function exitWithParent (close: () => void): void {
  process.stdin.resume()
  process.stdin.on('end', close)
  process.on('SIGTERM', close)
  process.on('SIGINT', close)
}
