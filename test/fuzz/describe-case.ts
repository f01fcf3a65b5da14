/** How a case and its failure are shown: the bytes escaped so they paste back into a test. */
import type { FuzzCase } from './case-types.js'

export function escapeBytes (bytes: Buffer, max = 700): string {
  const text = JSON.stringify(bytes.subarray(0, max).toString('latin1'))
  return bytes.length > max ? `${text} … (${bytes.length} bytes in all)` : text
}

export function describeCase (c: FuzzCase): string {
  return [
    `  origin: ${c.origin}${c.mutations.length > 0 ? `, mutations: ${c.mutations.join(' ')}` : ''}${c.mustReject !== null ? `, must refuse: ${c.mustReject}` : ''}`,
    `  segments: ${c.segments.join('+')}`,
    `  bytes: ${escapeBytes(c.bytes)}`
  ].join('\n')
}
