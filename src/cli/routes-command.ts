import { adminRequest } from './admin-request.js'
import { formatListenAddress, type ListenAddress } from '../listen/listen-address.js'
import { formatHealth } from '../health/probe-table-once.js'
import { formatTable } from './format-table.js'

interface RouteView {
  prefix: string
  source: string
  status: string
  file: string | null
  backendPath: string
  target: { kind: 'unix', socket: string, socketPath: string } | { kind: 'url', url: string }
  /** Left out by a router older than issue #12. */
  health?: string
  healthCause?: string | null
}

interface RoutesView {
  routes: RouteView[]
  skipped?: Array<{ what: string, reason: string }>
  configErrors?: string[]
}

function fetchRoutes (address: ListenAddress): Promise<RoutesView> {
  return new Promise((resolve, reject) => {
    const req = adminRequest(address, {
      path: '/_sockrouter/routes',
      headers: { host: 'localhost' },
      timeout: 5000
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => {
        try {
          // A non-loopback listener serves only /_sockrouter/health (issue #12).
          if (res.statusCode === 404) throw new Error('it answered 404: a non-loopback listener shows only /_sockrouter/health; pass the router\'s --admin-listen address, or start it with --public-admin')
          if (res.statusCode !== 200) throw new Error(`it answered ${res.statusCode ?? '?'}`)
          resolve(JSON.parse(body) as RoutesView)
        } catch (err) {
          reject(err)
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')))
    req.on('error', reject)
    req.end()
  })
}

function quote (text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`
}

function viaRouter (address: ListenAddress, prefix: string): string {
  if (address.kind === 'unix') return `curl --unix-socket ${quote(address.path)} http://x${prefix}`
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '[::1]' : address.host.includes(':') ? `[${address.host}]` : address.host
  return address.scheme === 'https' ? `curl -k https://${host}:${address.port}${prefix}` : `curl http://${host}:${address.port}${prefix}`
}

/**
 * `sockrouter routes`: the live table of a running router, from its
 * /_sockrouter/routes, with the curl commands that reach each service
 * directly and through the router. Like `check`, it prints every rejected
 * file line and every route left out (a duplicate prefix) as `error: …` on
 * stderr and then exits 1: the same problems that make /_sockrouter/health
 * say `degraded` (issue #12). With `--admin-listen` the table is read there;
 * the commands still go through `--listen`.
 */
export async function runRoutes (address: ListenAddress, io: { stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }, adminAddress?: ListenAddress): Promise<number> {
  let view: RoutesView
  const asked = adminAddress ?? address
  try {
    view = await fetchRoutes(asked)
  } catch (err) {
    io.stderr.write(`sockrouter: no router answered on ${formatListenAddress(asked)} (${(err as Error).message}); is it running? Pass its --listen address.\n`)
    return 1
  }
  const { routes } = view
  if (routes.length === 0) {
    io.stdout.write('no routes\n')
  } else {
    const rows = routes.map((r) => [r.prefix, r.target.kind === 'unix' ? r.target.socketPath : r.target.url, r.source === 'file' ? String(r.file) : 'discovered', r.status, formatHealth(r.health ?? 'unknown', r.healthCause ?? null)])
    io.stdout.write(formatTable(['PREFIX', 'TARGET', 'SOURCE', 'STATUS', 'HEALTH'], rows))
    io.stdout.write('\n')
    for (const r of routes) {
      const direct = r.target.kind === 'unix' ? `curl --unix-socket ${quote(r.target.socketPath)} http://x${r.backendPath}` : `curl ${quote(r.target.url + r.backendPath)}`
      io.stdout.write(`${r.prefix}\n  direct:       ${direct}\n  via router:   ${viaRouter(address, r.prefix)}\n`)
    }
  }
  const errors = [...(view.configErrors ?? []), ...(view.skipped ?? []).map((s) => `${s.what}: ${s.reason}`)]
  for (const error of errors) io.stderr.write(`error: ${error}\n`)
  return errors.length === 0 ? 0 : 1
}
