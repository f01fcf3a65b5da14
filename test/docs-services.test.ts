import { readdirSync, readFileSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import t from 'tap'
import { parseRouteFile } from '../src/config/parse-route-file.js'
import { renderServicesDoc } from '../src/config/render-services-doc.js'
import { ROUTE_FILE_SCHEMA } from '../src/config/route-file-schema.js'
import type { RouteSpec } from '../src/config/route-spec.js'

/**
 * docs/services.d.md is generated from the JSON Schema (`npm run
 * docs:services`). These tests fail when the schema changed and the doc was
 * not regenerated, when the generator loses a field, and when an example
 * shipped in services.d/ stops validating.
 */

const DOC_URL = new URL('../docs/services.d.md', import.meta.url)
const SERVICES_DIR = new URL('../services.d/', import.meta.url)
const DOC = readFileSync(DOC_URL, 'utf8')

interface Schema {
  readonly type?: string
  readonly description?: string
  readonly default?: unknown
  readonly required?: readonly string[]
  readonly properties?: Readonly<Record<string, Schema>>
}

const ROUTE = ROUTE_FILE_SCHEMA.properties.routes.items as unknown as Schema

/** Every property of a route, nested ones as `timeouts.connect`, with the schema that declares it. */
function fields (schema: Schema, path = ''): Array<{ field: string, schema: Schema, parent: Schema, name: string }> {
  return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => {
    const field = path === '' ? name : `${path}.${name}`
    return [{ field, schema: child, parent: schema, name }, ...fields(child, field)]
  })
}

/** Cells of a markdown table row, split on unescaped pipes. */
function cells (row: string): string[] {
  return row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim())
}

const ROWS = DOC.split('\n').filter((l) => /^\| `[^`]+` \|/.test(l)).map(cells)

t.test('docs/services.d.md is exactly what renderServicesDoc() produces', async (t) => {
  const fresh = renderServicesDoc()
  t.ok(DOC === fresh, 'docs/services.d.md is stale: run `npm run docs:services` and commit the result')
  if (DOC !== fresh) t.equal(DOC, fresh, 'the difference')
  t.match(DOC, /Generated from src\/config\/route-file-schema\.ts by `npm run docs:services`/, 'the doc says how it is made')
})

t.test('npm run docs:services is the script that writes it', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }
  t.match(pkg.scripts['docs:services'], /src\/cli\/write-services-doc\.ts/)
  const writer = readFileSync(new URL('../src/cli/write-services-doc.ts', import.meta.url), 'utf8')
  t.match(writer, /renderServicesDoc\(\)/)
  t.match(writer, /docs\/services\.d\.md/)
})

t.test('every route property in the schema has exactly one row, with its description, default and required flag', async (t) => {
  const all = fields(ROUTE)
  t.ok(all.length >= 13, `the schema has the issue's fields (${all.length})`)
  for (const name of ['prefix', 'socket', 'url', 'stripPrefix', 'rewrite', 'websocket', 'requestHeaders', 'responseHeaders', 'changeOrigin', 'allowedOrigins', 'timeouts', 'maxTunnels', 'rewriteLocation']) {
    t.ok(all.some((f) => f.field === name), `the schema declares ${name}`)
  }
  for (const { field, schema, parent, name } of all) {
    const rows = ROWS.filter((r) => r[0] === `\`${field}\``)
    t.equal(rows.length, 1, `${field} has one row`)
    const row = rows[0]
    if (row === undefined) continue
    const [, , required = '', def = '', meaning = ''] = row
    t.equal(required, parent.required?.includes(name) === true ? 'yes' : 'no', `${field}: the Required column follows the schema`)
    t.equal(def, schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``, `${field}: the Default column follows the schema`)
    t.ok((schema.description ?? '') !== '', `${field} has a description in the schema`)
    t.equal(meaning.replace(/\\\|/g, '|'), schema.description ?? '', `${field}: the Meaning column is the schema's description`)
  }
  const known = new Set(all.map((f) => `\`${f.field}\``))
  t.same(ROWS.map((r) => r[0]).filter((f) => !known.has(f ?? '')), [], 'no row names a field the schema does not have')
  t.match(DOC, /Exactly one of `socket` and `url` is required\./)
})

function routeFiles (): string[] {
  return readdirSync(SERVICES_DIR).filter((n) => /^[^.].*\.(?:ya?ml|json)$/.test(n)).sort()
}

function parseExample (name: string, text: string): { errors: readonly string[], specs: readonly RouteSpec[] } {
  const parsed = parseRouteFile(`services.d/${name}`, text, '/run/sockets')
  return parsed.ok ? { errors: [], specs: parsed.specs } : { errors: parsed.errors, specs: [] }
}

t.test('every route file shipped in services.d/ parses without errors', async (t) => {
  const names = routeFiles()
  t.ok(names.length >= 2, `route files found: ${names.join(', ')}`)
  for (const name of names) {
    const { errors } = parseExample(name, readFileSync(new URL(name, SERVICES_DIR), 'utf8'))
    t.same(errors, [], `services.d/${name} is valid`)
  }
  const demo = parseExample('demo.yaml', readFileSync(new URL('demo.yaml', SERVICES_DIR), 'utf8'))
  t.match(demo.specs, [{ prefix: '/demo-api', target: { kind: 'socket', socketPath: '/run/sockets/demo/ui.sock' }, websocket: false }], 'the live demo route')
})

/**
 * The commented examples are meant to be uncommented: strip one `#` (and one
 * space) from every line from `# routes:` on, and the result must validate
 * and show what the issue asks for.
 */
t.test('the commented examples in services.d/ are valid once uncommented', async (t) => {
  let blocks = 0
  for (const name of routeFiles()) {
    const lines = readFileSync(new URL(name, SERVICES_DIR), 'utf8').split('\n')
    const start = lines.findIndex((l) => /^#\s*routes:\s*$/.test(l))
    if (start === -1) continue
    blocks++
    const text = lines.slice(start).map((l) => l.replace(/^# ?/, '')).join('\n')
    const { errors, specs } = parseExample(name, text)
    t.same(errors, [], `services.d/${name}, uncommented, is valid`)
    t.ok(specs.length >= 5, `services.d/${name} has at least five examples`)
    t.ok(specs.some((s) => s.target.kind === 'socket' && isAbsolute(s.target.socketPath) && !s.target.socketPath.startsWith('/run/sockets/')), 'a socket elsewhere')
    t.ok(specs.some((s) => s.target.kind === 'url'), 'a TCP URL')
    t.ok(specs.some((s) => s.websocket && (s.maxTunnels !== null || s.timeouts.tunnelIdleMs !== undefined || s.allowedOrigins.length > 0)), 'a WebSocket route')
    t.ok(specs.some((s) => Object.keys(s.requestHeaders.set).length + s.requestHeaders.remove.length > 0 && Object.keys(s.responseHeaders.set).length + s.responseHeaders.remove.length > 0), 'headers both ways')
    t.ok(specs.some((s) => !s.websocket), 'a disabled-WebSocket route')
  }
  t.ok(blocks >= 1, 'services.d/ ships a commented examples block')
})
