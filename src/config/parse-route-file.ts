import { isAbsolute, resolve } from 'node:path'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml'
import { RESERVED_SERVICE } from '../routing/route-types.js'
import { MAX_DURATION_MS, parseDuration } from './parse-duration.js'
import { ROUTE_FILE_SCHEMA, ROUTE_PROPERTIES as P } from './route-file-schema.js'
import { NO_HEADER_RULES, NO_HEALTH_CHECK, type HeaderRules, type RouteSpec, type SpecTarget } from './route-spec.js'

export type ParsedRouteFile =
  | { readonly ok: true, readonly specs: readonly RouteSpec[] }
  | { readonly ok: false, readonly errors: readonly string[] }

const DURATION_PATTERN = /^\d+(?:\.\d+)?(?:ms|s|m|h)$/

// strictRequired is off because oneOf names keys declared in the parent's properties.
// allowUnionTypes: `healthCheck` is `false` or a map (issue #12).
// validateSchema and code.optimize are off for start-up (issue #14): the
// first route file compiled the validator on a start's first scan, and a
// start with a services.d took 306-347 ms to its first routed 200 against
// about 190 without. Checking our fixed schema against the JSON Schema
// meta-schema compiled that meta-schema first (61 of the 97 ms of the
// compile, in a profile of the binary), and the optimizer's passes over
// the generated code were most of the rest. test/route-file-schema.test.ts
// checks the schema against the meta-schema instead; the validator is
// called once per file read, so its code need not be the fastest.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, validateSchema: false, code: { optimize: false } })
ajv.addFormat('duration', {
  type: 'string',
  validate: (text: string) => {
    if (!DURATION_PATTERN.test(text)) return false
    try {
      return parseDuration(text) <= MAX_DURATION_MS
    } catch {
      return false
    }
  }
})
const BACKEND_URL = /^https?:\/\/[^/?#]+(\/[^?#]*)?$/
// The shape alone let `http://host:99999` and `http://a b` through, and `new URL` then threw during a rescan (issue #10).
ajv.addFormat('backend-url', {
  type: 'string',
  validate: (text: string) => BACKEND_URL.test(text) && URL.canParse(text)
})
// Compiled on the first route file, not at start-up: compiling the schema (and ajv's meta-schema) was the largest single cost of starting the bundle and the binary (issue #11).
let compiled: ValidateFunction | null = null
const validator = (): ValidateFunction => (compiled ??= ajv.compile(ROUTE_FILE_SCHEMA))

interface RawHeaderRules { set?: Record<string, string>, remove?: string[] }
interface RawRoute {
  prefix: string
  socket?: string
  url?: string
  stripPrefix?: boolean
  rewrite?: string
  websocket?: boolean
  requestHeaders?: RawHeaderRules
  responseHeaders?: RawHeaderRules
  changeOrigin?: boolean
  allowedOrigins?: string[]
  timeouts?: { connect?: string, upstream?: string, tunnelIdle?: string }
  maxTunnels?: number
  rewriteLocation?: boolean
  healthCheck?: boolean | { path?: string, interval?: string, timeout?: string }
}

/** `/routes/0/timeouts/connect` → `routes[0].timeouts.connect`. */
function fieldPath (segments: readonly (string | number)[]): string {
  return segments.reduce<string>((path, s) => typeof s === 'number' || /^\d+$/.test(String(s)) ? `${path}[${s}]` : path === '' ? String(s) : `${path}.${s}`, '')
}

function pointerSegments (pointer: string): (string | number)[] {
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => /^\d+$/.test(s) ? Number(s) : s)
}

function patternMessage (segments: readonly (string | number)[]): string {
  const last = segments.at(-1)
  if (last === 'prefix') return 'must be a path like "/chat" or "/chat/ui"'
  if (last === 'url') return 'must be a URL like "http://127.0.0.1:8080" or "https://host/base"'
  if (last === 'rewrite') return 'must start with "/"'
  if (last === 'path' && segments.includes('healthCheck')) return 'must start with "/"'
  if (segments.includes('remove')) return 'is not a valid header name'
  if (segments.includes('set')) return 'is not a valid header value: no CR, LF, NUL or other control character, nothing above U+00FF (RFC 9110 §5.5)'
  return 'has an invalid format'
}

/**
 * `:N` for the line of the key (or list item) at `segments`, so an error about
 * `timeouts:` points at that line and not at the block below it.
 */
function lineOf (doc: Document, lineCounter: LineCounter, segments: readonly (string | number)[]): number | null {
  const parent = segments.length <= 1 ? doc.contents : doc.getIn(segments.slice(0, -1), true)
  const last = segments.at(-1)
  let range: readonly number[] | null | undefined
  if (segments.length === 0) {
    range = isNode(doc.contents) ? doc.contents.range : undefined
  } else if (isMap(parent)) {
    const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === last)
    range = isNode(pair?.key) ? pair.key.range : undefined
  } else if (isSeq(parent) && typeof last === 'number') {
    const item = parent.items[last]
    range = isNode(item) ? item.range : undefined
  }
  return range?.[0] === undefined ? null : lineCounter.linePos(range[0]).line
}

interface FileError { readonly line: number | null, readonly text: string }

/**
 * `file:line: field: message` lines, in line order (issue #10): ajv reports
 * in schema order, which jumps around the file. Errors without a line (about
 * the file as a whole) come first; the sort is stable within a line.
 */
function formatErrors (file: string, errors: readonly FileError[]): string[] {
  const sorted = [...errors].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
  return [...new Set(sorted.map((e) => `${file}${e.line === null ? '' : `:${e.line}`}: ${e.text}`))]
}

function describe (error: ErrorObject): { segments: (string | number)[], message: string } {
  const segments = pointerSegments(error.instancePath)
  switch (error.keyword) {
    case 'additionalProperties':
      return { segments: [...segments, String(error.params.additionalProperty)], message: 'unknown key (a typo?)' }
    case 'required':
      return { segments, message: `missing required key "${String(error.params.missingProperty)}"` }
    case 'oneOf':
      return { segments, message: 'needs exactly one of "socket" and "url"' }
    case 'propertyNames':
      return { segments: [...segments, String(error.params.propertyName)], message: 'is not a valid header name' }
    case 'format':
      if (error.params.format === 'duration') return { segments, message: 'must be a duration like "5s"' }
      if (error.params.format === 'backend-url') return { segments, message: patternMessage(segments) }
      return { segments, message: `must be ${String(error.params.format)}` }
    case 'pattern':
      return { segments, message: patternMessage(segments) }
    case 'type':
      if (segments.at(-1) === 'healthCheck') return { segments, message: 'must be false, true or a map with path, interval and timeout' }
      return { segments, message: error.message ?? 'is invalid' }
    default:
      return { segments, message: error.message ?? 'is invalid' }
  }
}

function headerRules (raw: RawHeaderRules | undefined): HeaderRules {
  if (raw === undefined) return NO_HEADER_RULES
  const set: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw.set ?? {})) set[name.toLowerCase()] = value
  return Object.freeze({ set: Object.freeze(set), remove: Object.freeze((raw.remove ?? []).map((n) => n.toLowerCase())) })
}

function targetOf (route: RawRoute, socketDir: string): SpecTarget {
  if (route.socket !== undefined) {
    return { kind: 'socket', socketPath: isAbsolute(route.socket) ? route.socket : resolve(socketDir, route.socket) }
  }
  const url = new URL(route.url as string)
  const basePath = url.pathname.replace(/\/+$/, '')
  return { kind: 'url', origin: url.origin, basePath, secure: url.protocol === 'https:' }
}

function healthCheckOf (raw: RawRoute['healthCheck']): RouteSpec['healthCheck'] {
  if (raw === false) return false
  if (raw === undefined || raw === true) return NO_HEALTH_CHECK
  const timeoutMs = raw.timeout === undefined ? undefined : parseDuration(raw.timeout)
  // A probe without a deadline could hang for ever, and the next one waits for it.
  if (timeoutMs === 0) throw new Error('healthCheck.timeout must be more than 0')
  return Object.freeze({
    ...(raw.path === undefined ? {} : { path: raw.path }),
    ...(raw.interval === undefined ? {} : { intervalMs: parseDuration(raw.interval) }),
    ...(timeoutMs === undefined ? {} : { timeoutMs })
  })
}

function normalisePrefix (prefix: string): string {
  return prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix
}

function toSpec (route: RawRoute, index: number, file: string, socketDir: string): RouteSpec {
  const ms = (d: string | undefined): number | undefined => d === undefined ? undefined : parseDuration(d)
  return Object.freeze({
    prefix: normalisePrefix(route.prefix),
    target: targetOf(route, socketDir),
    stripPrefix: route.stripPrefix ?? P.stripPrefix.default,
    rewrite: route.rewrite ?? P.rewrite.default,
    websocket: route.websocket ?? P.websocket.default,
    requestHeaders: headerRules(route.requestHeaders),
    responseHeaders: headerRules(route.responseHeaders),
    changeOrigin: route.changeOrigin ?? P.changeOrigin.default,
    allowedOrigins: Object.freeze([...(route.allowedOrigins ?? [])]),
    timeouts: Object.freeze({ connectMs: ms(route.timeouts?.connect), upstreamMs: ms(route.timeouts?.upstream), tunnelIdleMs: ms(route.timeouts?.tunnelIdle) }),
    maxTunnels: route.maxTunnels ?? null,
    rewriteLocation: route.rewriteLocation ?? P.rewriteLocation.default,
    healthCheck: healthCheckOf(route.healthCheck),
    file,
    index
  })
}

/**
 * Pure: one file's text → validated specs, or every error in it. `file` is
 * the name users see in messages (`services.d/chat.yaml`). YAML and JSON both
 * parse as YAML 1.2, which keeps node positions for line numbers.
 */
export function parseRouteFile (file: string, text: string, socketDir: string): ParsedRouteFile {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    return { ok: false, errors: formatErrors(file, doc.errors.map((e) => ({ line: lineCounter.linePos(e.pos[0]).line, text: e.message.split('\n')[0] ?? 'syntax error' }))) }
  }
  let data: unknown
  try {
    data = doc.toJS()
  } catch (err) {
    // yaml refuses alias expansion past its limit (a "billion laughs" file) by throwing.
    return { ok: false, errors: formatErrors(file, [{ line: null, text: (err as Error).message }]) }
  }
  // An empty file, or one that is all comments, declares no routes.
  if (data === null || data === undefined) return { ok: true, specs: [] }
  const validate = validator()
  if (!validate(data)) {
    const errors = (validate.errors ?? [])
      // Branch errors inside oneOf and the inner error of propertyNames are restated by their parent.
      .filter((e) => !e.schemaPath.includes('/oneOf/') && e.propertyName === undefined)
      .map((e) => {
        const { segments, message } = describe(e)
        return { line: lineOf(doc, lineCounter, segments), text: `${fieldPath(segments) || '(top level)'}: ${message}` }
      })
    return { ok: false, errors: formatErrors(file, errors) }
  }
  const routes = (data as { routes: RawRoute[] }).routes
  const reserved = routes.findIndex((r) => normalisePrefix(r.prefix).split('/')[1] === RESERVED_SERVICE)
  if (reserved !== -1) {
    return { ok: false, errors: formatErrors(file, [{ line: lineOf(doc, lineCounter, ['routes', reserved, 'prefix']), text: `routes[${reserved}].prefix: /${RESERVED_SERVICE} is reserved for the router` }]) }
  }
  const specs: RouteSpec[] = []
  const failures: FileError[] = []
  for (const [i, route] of routes.entries()) {
    // The schema should have caught it; if it did not, the file is rejected, never the rescan (issue #10).
    try {
      specs.push(toSpec(route, i, file, socketDir))
    } catch (err) {
      failures.push({ line: lineOf(doc, lineCounter, ['routes', i]), text: `routes[${i}]: cannot be used: ${(err as Error).message}` })
    }
  }
  return failures.length > 0 ? { ok: false, errors: formatErrors(file, failures) } : { ok: true, specs: Object.freeze(specs) }
}
