/**
 * Byte-level mutations of a request: the edits radamsa-style fuzzers make,
 * weighted towards the bytes HTTP parsers split on (CR, LF, NUL, SP, HT,
 * ':' and ','). Each returns a short label for the failure report.
 */
import type { Rng } from './prng.js'

const INTERESTING = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x22, 0x7f, 0xff, 0x80, 0x0b, 0x0c, 0x2f, 0x25]
const INSERTS = ['\r', '\n', '\0', '\r\n', '\n\n', '\r\n\r\n', ' ', '\t', '\r\n ', ':', ',', 'chunked', 'Transfer-Encoding: chunked\r\n', 'Content-Length: 0\r\n', 'Host: evil.example\r\n', '%00', '%2e%2e%2f']

type Mutation = (rng: Rng, bytes: Buffer) => { bytes: Buffer, label: string }

function lineStarts (bytes: Buffer): number[] {
  const starts = [0]
  for (let i = 0; i < bytes.length - 1; i++) if (bytes[i] === 0x0a) starts.push(i + 1)
  return starts
}

const MUTATIONS: readonly Mutation[] = [
  (rng, b) => { const at = rng.int(b.length); const c = Buffer.from(b); c[at] = (c[at] ?? 0) ^ (1 << rng.int(8)); return { bytes: c, label: `flip@${at}` } },
  (rng, b) => { const at = rng.int(b.length); const c = Buffer.from(b); c[at] = rng.pick(INTERESTING); return { bytes: c, label: `set@${at}=${c[at]}` } },
  (rng, b) => { const at = rng.int(b.length + 1); const s = rng.pick(INSERTS); return { bytes: Buffer.concat([b.subarray(0, at), Buffer.from(s, 'latin1'), b.subarray(at)]), label: `insert@${at}=${JSON.stringify(s)}` } },
  (rng, b) => { const at = rng.int(b.length); const n = rng.range(1, 8); return { bytes: Buffer.concat([b.subarray(0, at), b.subarray(at + n)]), label: `delete@${at}+${n}` } },
  (_rng, b) => ({ bytes: Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'), label: 'lf-only' }),
  (rng, b) => {
    const starts = lineStarts(b).slice(1)
    if (starts.length === 0) return { bytes: b, label: 'one-line' }
    const at = rng.pick(starts)
    return { bytes: Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick([' ', '\t']), 'latin1'), b.subarray(at)]), label: `obs-fold@${at}` }
  },
  (rng, b) => {
    const text = b.toString('latin1')
    const colons = [...text.matchAll(/[A-Za-z-]:/g)].map((m) => (m.index ?? 0) + 1)
    if (colons.length === 0) return { bytes: b, label: 'no-colon' }
    const at = rng.pick(colons)
    return { bytes: Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick([' ', '\t', '\0']), 'latin1'), b.subarray(at)]), label: `before-colon@${at}` }
  },
  (rng, b) => {
    const starts = lineStarts(b)
    const i = rng.int(starts.length)
    const from = starts[i] ?? 0
    const to = starts[i + 1] ?? b.length
    return { bytes: Buffer.concat([b.subarray(0, to), b.subarray(from, to), b.subarray(to)]), label: `dup-line@${from}` }
  },
  (rng, b) => {
    const text = b.toString('latin1')
    const numbers = [...text.matchAll(/\d+/g)]
    if (numbers.length === 0) return { bytes: b, label: 'no-number' }
    const m = rng.pick(numbers)
    const at = m.index ?? 0
    const v = rng.pick(['0', '-1', '4294967296', '18446744073709551617', '99999999999999999999', String(Number(m[0]) + 1), '1e3', ' 5'])
    return { bytes: Buffer.from(text.slice(0, at) + v + text.slice(at + m[0].length), 'latin1'), label: `number@${at}=${v}` }
  },
  (rng, b) => { const at = rng.int(b.length); const n = rng.range(1000, 70000); return { bytes: Buffer.concat([b.subarray(0, at), Buffer.alloc(n, 0x41), b.subarray(at)]), label: `overlong@${at}+${n}` } },
  (rng, b) => { const at = rng.range(1, b.length); return { bytes: b.subarray(0, at), label: `truncate@${at}` } },
  (rng, b) => {
    const text = b.toString('latin1')
    const i = text.indexOf(rng.pick(['chunked', 'Content-Length', 'Host', 'Upgrade', 'HTTP/1.1', 'websocket']))
    if (i === -1) return { bytes: b, label: 'no-token' }
    const at = i + rng.int(3)
    return { bytes: Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(['x', 'X', ' ', '\0', '\r', '-']), 'latin1'), b.subarray(at)]), label: `token@${at}` }
  }
]

const WEIGHTS = [10, 10, 12, 6, 2, 4, 4, 4, 6, 1, 1, 6]

export function mutate (rng: Rng, input: Buffer, count: number): { bytes: Buffer, labels: string[] } {
  let bytes = input
  const labels: string[] = []
  const total = WEIGHTS.reduce((a, b) => a + b, 0)
  for (let k = 0; k < count && bytes.length > 0; k++) {
    let r = rng.int(total)
    let pick = 0
    for (const [i, w] of WEIGHTS.entries()) {
      if (r < w) { pick = i; break }
      r -= w
    }
    const out = (MUTATIONS[pick] as Mutation)(rng, bytes)
    bytes = out.bytes
    labels.push(out.label)
  }
  return { bytes, labels }
}
