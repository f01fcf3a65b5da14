import { accessSync, constants } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { spawnChild } from '../children.js'
import { httpUrl, type Endpoint } from '../endpoint.js'
import { Samples } from '../stats.js'
import type { HttpLoadResult } from './http-load.js'

/**
 * HTTP/2 (and HTTP/1.1) load over TLS with h2load, from Debian's
 * nghttp2-client (issue #13): a C client, so the load generator costs the
 * 2-core box less than a Node one would, and it runs as a process of its
 * own. Bounded by `-D`; the totals come from its summary, the percentiles
 * from its per-request log (`--log-file`), since the summary gives only
 * min, max, mean and sd.
 */

const CANDIDATES = ['/usr/bin/h2load', '/usr/local/bin/h2load']

/**
 * The one TLS 1.3 suite h2load offers. Left to choose, sockrouter (Node's
 * defaults) takes AES-256 while nginx follows h2load's order and takes
 * AES-128; pinned, both do the same crypto. This one is what sockrouter
 * picks for any client that offers it, and what the wss rows' Node client
 * puts first for both.
 */
const TLS13_SUITE = 'TLS_AES_256_GCM_SHA384'

export function findH2load (): string | null {
  for (const path of CANDIDATES) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      continue
    }
  }
  return null
}

export interface H2loadOptions {
  /** `h2`, or `http/1.1` (h2load `--h1`), both negotiated by ALPN. */
  readonly protocol: 'h2' | 'http/1.1'
  readonly connections: number
  /** Streams in flight per connection (HTTP/2); 1 for HTTP/1.1, which h2load would otherwise pipeline. */
  readonly streams: number
  readonly seconds: number
  /** Where h2load writes its per-request log; removed after reading. */
  readonly logFile: string
}

/** The same figures as autocannon's runs give; bytes are frames or heads plus bodies, errors include timed-out requests. */
export interface H2loadResult extends HttpLoadResult {
  /** What the TLS handshake settled on, e.g. `h2`, `TLSv1.2`, `ECDHE-ECDSA-AES128-GCM-SHA256`. */
  readonly negotiated: { readonly alpn: string, readonly tls: string, readonly cipher: string }
}

export interface H2loadSummary {
  readonly seconds: number
  readonly ok: number
  readonly failed: number
  readonly non2xx: number
  readonly bytes: number
  readonly alpn: string
  readonly tls: string
  readonly cipher: string
}

const TIME_UNITS: Readonly<Record<string, number>> = { us: 1e-6, ms: 1e-3, s: 1 }

function field (text: string, re: RegExp): string {
  const m = re.exec(text)
  if (m?.[1] === undefined) throw new Error(`h2load printed no ${re.source}`)
  return m[1]
}

/** Reads h2load's summary (nghttp2 1.52's format). Throws when the run never got to one. */
export function parseH2loadSummary (stdout: string): H2loadSummary {
  const finished = /^finished in ([\d.]+)(us|ms|s),/m.exec(stdout)
  if (finished?.[1] === undefined || finished[2] === undefined) {
    throw new Error(`h2load did not finish: ${stdout.trim().split('\n').slice(-3).join(' / ') || 'no output'}`)
  }
  const requests = field(stdout, /^requests: (.+)$/m)
  const count = (what: string): number => Number(field(requests, new RegExp(`(\\d+) ${what}`)))
  const codes = field(stdout, /^status codes: (.+)$/m)
  const code = (what: string): number => Number(field(codes, new RegExp(`(\\d+) ${what}`)))
  const optional = (re: RegExp): string => re.exec(stdout)?.[1]?.trim() ?? 'none'
  return {
    seconds: Number(finished[1]) * (TIME_UNITS[finished[2]] ?? 1),
    ok: code('2xx'),
    // h2load counts errored and timed-out requests among the failed ones.
    failed: count('failed'),
    non2xx: code('3xx') + code('4xx') + code('5xx'),
    bytes: Number(field(stdout, /^traffic: \S+ \((\d+)\) total/m)),
    alpn: optional(/^Application protocol: (.+)$/m),
    tls: optional(/^TLS Protocol: (.+)$/m),
    cipher: optional(/^Cipher: (.+)$/m)
  }
}

/** Response times (µs) of the 2xx lines of an h2load `--log-file`: start (µs since epoch), status, duration (µs). */
export function parseH2loadLog (text: string): Samples {
  const samples = new Samples()
  for (const line of text.split('\n')) {
    const [, status, duration] = line.split('\t')
    if (status === undefined || duration === undefined) continue
    const s = Number(status)
    if (s >= 200 && s < 300) samples.add(Number(duration))
  }
  return samples
}

export async function h2load (path: string, e: Endpoint, o: H2loadOptions): Promise<H2loadResult> {
  const args = [
    '-c', String(o.connections),
    '-m', String(o.streams),
    // -D takes whole units; milliseconds keep --quick's 0.6 s.
    '-D', `${Math.round(o.seconds * 1000)}ms`,
    '--log-file', o.logFile,
    `--tls13-ciphers=${TLS13_SUITE}`,
    ...(o.protocol === 'http/1.1' ? ['--h1'] : []),
    httpUrl(e)
  ]
  const child = spawnChild('h2load', path, args, { stdout: 'pipe' })
  let stdout = ''
  child.proc.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  // A stuck handshake must not hang the run: h2load gets its duration and then some.
  const timer = setTimeout(() => { void child.stop(1000) }, o.seconds * 1000 + 20_000)
  const code = await child.exited
  clearTimeout(timer)
  let summary: H2loadSummary
  try {
    summary = parseH2loadSummary(stdout)
  } catch (err) {
    throw new Error(`${(err as Error).message} (exit ${String(code)}${child.stderrTail() === '' ? '' : `: ${child.stderrTail()}`})`)
  }
  // No ALPN line at all: no connection got through its TLS handshake, and h2load says no more than that.
  if (summary.alpn !== o.protocol) throw new Error(`h2load negotiated ${summary.alpn === 'none' ? 'no protocol (no connection got through)' : summary.alpn}, not ${o.protocol}`)
  const latencies = parseH2loadLog(await readFile(o.logFile, 'utf8'))
  await rm(o.logFile, { force: true })
  const [p50, p99] = latencies.percentiles([50, 99])
  return {
    ok: summary.ok,
    seconds: summary.seconds,
    reqPerSec: summary.ok / summary.seconds,
    bytesPerSec: summary.bytes / summary.seconds,
    p50Us: p50 ?? Number.NaN,
    p99Us: p99 ?? Number.NaN,
    errors: summary.failed + summary.non2xx,
    negotiated: { alpn: summary.alpn, tls: summary.tls, cipher: summary.cipher }
  }
}
