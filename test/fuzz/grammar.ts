/**
 * A grammar-based generator of HTTP/1.1 request heads and bodies, aimed at
 * the places where proxies and backends disagree (issue #10): message
 * framing (RFC 9112 §6), Host (RFC 9112 §3.2), field syntax (RFC 9112 §5)
 * and upgrades (RFC 9110 §7.8, RFC 6455 §4). Each request records whether
 * RFC 9112 obliges a server to refuse it, so the checks have an oracle for
 * unmutated cases.
 */
import type { Rng } from './prng.js'
import { primaryTag, type Target } from './case-types.js'

export interface Message {
  readonly bytes: string
  /** Why a server MUST answer 400, or null. */
  readonly mustReject: string | null
  readonly head: boolean
}

interface Header { name: string, value: string }

const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

export function canaryRequest (target: Target, index: number, n: string, route = 'b'): string {
  return `GET /fz/${route}/canary-${index}-${n} HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\n\r\n`
}

function pickMethod (rng: Rng): string {
  const r = rng.next()
  if (r < 0.35) return 'GET'
  if (r < 0.6) return 'POST'
  if (r < 0.7) return 'PUT'
  if (r < 0.75) return 'DELETE'
  if (r < 0.8) return 'OPTIONS'
  if (r < 0.85) return 'PATCH'
  if (r < 0.9) return 'HEAD'
  return rng.pick(['CONNECT', 'get', 'BREW', 'G\tET', 'M-SEARCH', 'PROPFIND', 'TRACE', 'GE T'])
}

function pickTarget (rng: Rng, target: Target, route: string, tag: string): string {
  const path = `/fz/${route}/${tag}`
  const r = rng.next()
  if (r < 0.6) return path + (rng.chance(0.3) ? `?q=${rng.int(1000)}&x=%2F` : '')
  if (r < 0.75) return `http://127.0.0.1:${target.port}${path}`
  if (r < 0.8) return `http://evil.example${path}`
  return rng.pick([
    `${path}/..%2F..%2Fx`, `${path}/%2e%2e%2fx`, `${path}/..%5Cx`, `/fz/${route}`, `//fz/${route}/${tag}`,
    '*', `127.0.0.1:${target.port}`, `${path}#frag`, `${path}?${'a'.repeat(rng.range(1, 9000))}`,
    `https://127.0.0.1:${target.port}${path}`, `HTTP://127.0.0.1:${target.port}${path}`, `http://127.0.0.1:${target.port}@evil.example${path}`
  ])
}

function pickVersion (rng: Rng): string {
  if (rng.chance(0.88)) return 'HTTP/1.1'
  return rng.pick(['HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ', 'HTTP/11', 'HTTP/1.1\t'])
}

/** Host lines: RFC 9112 §3.2 wants exactly one, with a valid value, on HTTP/1.1. */
function hostHeaders (rng: Rng, target: Target, version: string): { headers: Header[], mustReject: string | null } {
  const good = `127.0.0.1:${target.port}`
  const r = rng.next()
  if (r < 0.78) return { headers: [{ name: rng.pick(['Host', 'host', 'HOST']), value: rng.chance(0.9) ? good : rng.pick(['localhost', '127.0.0.1', `localhost:${target.port}`]) }], mustReject: null }
  if (r < 0.83) return { headers: [], mustReject: version === 'HTTP/1.1' ? 'missing-host' : null }
  if (r < 0.88) return { headers: [{ name: 'Host', value: good }, { name: 'Host', value: good }], mustReject: 'duplicate-host' }
  if (r < 0.93) return { headers: [{ name: 'Host', value: good }, { name: 'host', value: rng.pick(['evil.example', 'localhost', '127.0.0.2']) }], mustReject: 'duplicate-host' }
  // `127.0.0.1:` is valid: RFC 3986 §3.2.3 allows an empty port, and the router treats it as none.
  const invalid = rng.pick([`127.0.0.1:${target.port}@evil.example`, '127.0.0.1:abc', 'localhost:99999', 'a b', '[::1', `127.0.0.1:${target.port}/x`])
  return { headers: [{ name: 'Host', value: invalid }], mustReject: 'invalid-host' }
}

interface Framing { headers: Header[], body: string, mustReject: string | null }

function chunk (data: string, ext: string): string {
  return `${data.length.toString(16)}${ext}\r\n${data}\r\n`
}

/**
 * Message framing, RFC 9112 §6. The body always carries a canary request
 * where a parser that framed it differently would start the next message.
 */
function framing (rng: Rng, canary: string): Framing {
  const payload = `x=${rng.int(100000)}&`
  const ext = rng.chance(0.2) ? rng.pick([';a=1', ';a="q;b"', ';' + 'e'.repeat(rng.range(10, 5000)), ' ;a', ';']) : ''
  const chunked = chunk(payload, ext) + chunk(canary, '') + '0\r\n' + (rng.chance(0.15) ? 'X-Trailer: 1\r\n' : '') + '\r\n'
  const kinds = [
    () => ({ headers: [], body: '', mustReject: null }),
    () => ({ headers: [{ name: 'Content-Length', value: String(payload.length + canary.length) }], body: payload + canary, mustReject: null }),
    () => ({ headers: [{ name: 'Transfer-Encoding', value: 'chunked' }], body: chunked, mustReject: null }),
    // CL.TE and TE.CL: a CL-only reader stops inside the chunked body, right where the canary starts.
    () => ({ headers: [{ name: 'Content-Length', value: String(payload.length + 5) }, { name: 'Transfer-Encoding', value: 'chunked' }], body: chunk(payload, '') + '0\r\n\r\n' + canary, mustReject: null }),
    () => ({ headers: [{ name: 'Transfer-Encoding', value: 'chunked' }, { name: 'Content-Length', value: '4' }], body: '5c\r\n' + canary + '\r\n0\r\n\r\n', mustReject: null }),
    () => ({ headers: [{ name: 'Content-Length', value: String(payload.length) }, { name: 'Content-Length', value: String(payload.length) }], body: payload + canary, mustReject: 'duplicate-content-length' }),
    () => ({ headers: [{ name: 'Content-Length', value: String(payload.length) }, { name: 'Content-Length', value: String(payload.length + canary.length) }], body: payload + canary, mustReject: 'conflicting-content-length' }),
    () => ({ headers: [{ name: 'Content-Length', value: `${payload.length}, ${payload.length + canary.length}` }], body: payload + canary, mustReject: 'conflicting-content-length' }),
    () => ({ headers: [{ name: 'Content-Length', value: rng.pick([`+${payload.length}`, `0x${payload.length.toString(16)}`, '-1', `${payload.length} 0`, '99999999999999999999999', `${payload.length}.0`]) }], body: payload + canary, mustReject: 'invalid-content-length' }),
    () => ({ headers: [{ name: 'Transfer-Encoding', value: rng.pick(['xchunked', 'chunked, identity', 'chunked,identity', 'chunked, gzip', 'identity']) }], body: chunked, mustReject: 'chunked-not-final' }),
    () => ({ headers: [{ name: 'Transfer-Encoding', value: rng.pick(['gzip, chunked', 'Chunked', ' chunked', 'chunked ', 'identity, chunked', '"chunked"', 'chunked\x0b']) }], body: chunked, mustReject: null }),
    () => ({ headers: [{ name: 'Transfer-Encoding', value: 'chunked' }, { name: 'Transfer-Encoding', value: rng.pick(['chunked', 'identity', 'x']) }], body: chunked, mustReject: null }),
    // Chunk-size overflow: a reader that wraps at 32 or 64 bits sees a small chunk and a canary after it.
    () => ({ headers: [{ name: 'Transfer-Encoding', value: 'chunked' }], body: rng.pick(['1000000000000000a', 'ffffffffffffffff5c', '00000000000000000000005c', '-5c', '5c 5']) + '\r\n' + canary + '\r\n0\r\n\r\n', mustReject: null }),
    () => ({ headers: [{ name: 'Transfer-Encoding', value: 'chunked' }], body: `${payload.length.toString(16)}\n${payload}\n0\n\n` + canary, mustReject: null }),
    () => ({ headers: [{ name: 'Content-Length', value: String(payload.length + canary.length + rng.range(1, 50)) }], body: payload + canary, mustReject: null })
  ]
  const weights = [30, 20, 12, 5, 5, 3, 3, 2, 4, 4, 4, 2, 3, 2, 1]
  let r = rng.int(weights.reduce((a, b) => a + b, 0))
  for (const [i, w] of weights.entries()) {
    if (r < w) return (kinds[i] as () => Framing)()
    r -= w
  }
  return (kinds[0] as () => Framing)()
}

/** Upgrade heads, RFC 9110 §7.8 and RFC 6455 §4.1: valid ones, refused ones and ones a backend won't switch. */
function upgradeHeaders (rng: Rng, target: Target): { headers: Header[], route: string } {
  const ws = (extra: Header[] = []): Header[] => [
    { name: 'Upgrade', value: 'websocket' }, { name: 'Connection', value: 'Upgrade' },
    { name: 'Sec-WebSocket-Key', value: WS_KEY }, { name: 'Sec-WebSocket-Version', value: '13' }, ...extra
  ]
  const r = rng.int(12)
  switch (r) {
    case 0: case 1: case 2: return { headers: ws(), route: 'ws' }
    // Neither backend answers 101: a router that splices anyway lets what follows reach them.
    // No extra draw here, so the cases of a seed stay the bytes they were.
    case 3: case 4: return { headers: ws(), route: r === 3 ? 'b' : 'raw' }
    case 5: return { headers: ws([{ name: 'Origin', value: rng.pick(['http://evil.example', `http://127.0.0.1:${target.port}`, 'null']) }]), route: 'ws' }
    case 6: return { headers: [{ name: 'Upgrade', value: 'websocket' }, { name: 'Connection', value: 'Upgrade' }, { name: 'Sec-WebSocket-Key', value: WS_KEY }, { name: 'Sec-WebSocket-Version', value: rng.pick(['8', '', '13, 8', '14']) }], route: 'ws' }
    case 7: return { headers: [{ name: 'Upgrade', value: 'websocket' }, { name: 'Connection', value: 'Upgrade' }, { name: 'Sec-WebSocket-Version', value: '13' }], route: 'ws' }
    case 8: return { headers: [{ name: 'Upgrade', value: 'h2c' }, { name: 'Connection', value: 'Upgrade, HTTP2-Settings' }, { name: 'HTTP2-Settings', value: 'AAMAAABkAARAAAAAAAIAAAAA' }], route: rng.pick(['b', 'ws']) }
    case 9: return { headers: ws().map((h) => h.name === 'Upgrade' ? { name: 'Upgrade', value: rng.pick(['WebSocket', 'websocket, h2c', 'h2c, websocket', 'websocket/13', 'foo']) } : h), route: 'ws' }
    case 10: return { headers: ws().map((h) => h.name === 'Connection' ? { name: 'Connection', value: rng.pick(['keep-alive, Upgrade', 'upgrade', 'close', 'Upgrade, close']) } : h), route: 'ws' }
    default: return { headers: [{ name: 'Upgrade', value: rng.pick(['websocket', 'h2c', 'TLS/1.2', 'IRC/6.9']) }], route: rng.pick(['b', 'ws']) }
  }
}

function otherHeaders (rng: Rng): Header[] {
  const pool: Header[] = [
    { name: 'User-Agent', value: 'sockrouter-fuzz' }, { name: 'Accept', value: '*/*' },
    { name: 'Connection', value: rng.pick(['keep-alive', 'close', 'close, x-forwarded-for', 'keep-alive, te', 'TE']) },
    { name: 'Expect', value: rng.pick(['100-continue', '100-Continue', 'nope']) },
    { name: 'X-Forwarded-For', value: '10.0.0.1' }, { name: 'Forwarded', value: 'for=1.2.3.4' },
    { name: 'Cookie', value: 'a=\xff\xe9; b=2' }, { name: 'TE', value: 'trailers' }, { name: 'Keep-Alive', value: 'timeout=5' },
    { name: 'Proxy-Connection', value: 'keep-alive' }, { name: 'Content-Type', value: rng.pick(['a', '', ';;;', 'text/plain', 'application/json']) },
    { name: 'X-Long', value: 'v'.repeat(rng.chance(0.1) ? rng.range(8000, 20000) : rng.range(1, 200)) }
  ]
  const out: Header[] = []
  const n = rng.range(0, 4)
  for (let i = 0; i < n; i++) out.push(rng.pick(pool))
  if (rng.chance(0.02)) for (let i = 0; i < rng.range(90, 130); i++) out.push({ name: `X-H${i}`, value: String(i) })
  return out
}

/** Field-line oddities of RFC 9112 §5: the ones marked MUST refuse set `mustReject`. */
function renderHeaders (rng: Rng, headers: Header[]): { text: string, mustReject: string | null } {
  let mustReject: string | null = null
  const lines = headers.map((h) => {
    const r = rng.next()
    if (r < 0.02) { mustReject ??= 'space-before-colon'; return `${h.name} : ${h.value}` }
    if (r < 0.03) { mustReject ??= 'space-before-colon'; return `${h.name}\t: ${h.value}` }
    if (r < 0.05) return `${h.name}: ${h.value.slice(0, 1)}\r\n ${h.value.slice(1)}`
    if (r < 0.06) { mustReject ??= 'invalid-field-name'; return `${h.name}(x): ${h.value}` }
    if (r < 0.07) return `${h.name}:${h.value}`
    if (r < 0.08) return `${h.name}:  ${h.value}  `
    return `${h.name}: ${h.value}`
  })
  if (rng.chance(0.02)) { lines.unshift(' X-Leading-Space: 1'); mustReject ??= 'leading-whitespace-line' }
  return { text: lines.map((l) => l + '\r\n').join(''), mustReject }
}

/** One request: request line, field lines, body. `tag` goes in the path so the backend can tell which it got. */
export function generateRequest (rng: Rng, target: Target, index: number, tag: string): Message {
  const upgrade = rng.chance(0.12) ? upgradeHeaders(rng, target) : null
  const route = upgrade?.route ?? (rng.chance(0.9) ? 'b' : 'ws')
  const method = upgrade !== null && rng.chance(0.85) ? 'GET' : pickMethod(rng)
  const version = pickVersion(rng)
  const requestTarget = pickTarget(rng, target, route, tag)
  const host = hostHeaders(rng, target, version)
  const frame = framing(rng, canaryRequest(target, index, tag.replace(/\W/g, ''), rng.chance(0.8) ? 'b' : 'ws'))
  const headers = [...host.headers, ...(upgrade?.headers ?? []), ...otherHeaders(rng), ...frame.headers]
  for (let i = headers.length - 1; i > 0; i--) {
    if (!rng.chance(0.3)) continue
    const j = rng.int(i + 1)
    const a = headers[i] as Header
    headers[i] = headers[j] as Header
    headers[j] = a
  }
  const rendered = renderHeaders(rng, headers)
  const sp = rng.chance(0.03) ? rng.pick(['  ', '\t', ' \t']) : ' '
  const line = `${rng.chance(0.02) ? '\r\n' : ''}${method}${sp}${requestTarget} ${version}\r\n`
  const eol = rng.chance(0.04) ? '\n' : '\r\n'
  let text = line + rendered.text + '\r\n'
  if (eol === '\n') text = text.replace(/\r\n/g, '\n')
  const mustReject = host.mustReject ?? frame.mustReject ?? rendered.mustReject
  return { bytes: text + frame.body, mustReject: tag === primaryTag(index) ? mustReject : null, head: method === 'HEAD' }
}

/**
 * A whole case: the first request, sometimes requests pipelined behind it
 * (a canary when the first must be refused: nothing after an error may
 * reach a backend), and usually a `Connection: close` request at the end so
 * the router closes as soon as it is done.
 */
export function generateMessages (rng: Rng, target: Target, index: number): Message[] {
  const messages = [generateRequest(rng, target, index, primaryTag(index))]
  if (rng.chance(0.4)) messages.push({ bytes: canaryRequest(target, index, 'after', rng.chance(0.8) ? 'b' : 'ws'), mustReject: null, head: false })
  if (rng.chance(0.15)) messages.push(generateRequest(rng, target, index, `c${index}-r1`))
  if (rng.chance(0.85)) {
    messages.push({ bytes: `GET /fz/b/c${index}-end HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\nConnection: close\r\n\r\n`, mustReject: null, head: false })
  }
  return messages
}
