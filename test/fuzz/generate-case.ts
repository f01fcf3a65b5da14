/** Case K of seed S: grammar-generated, grammar then mutated, or a seed then mutated (issue #10). */
import { generateMessages } from './grammar.js'
import { mutate } from './mutate.js'
import { caseRng } from './prng.js'
import { SEEDS, type Seed } from './seeds.js'
import type { FuzzCase, Target } from './case-types.js'

function split (rng: ReturnType<typeof caseRng>, length: number): number[] {
  if (length < 2 || !rng.chance(0.3)) return [length]
  const cuts = new Set<number>()
  const n = rng.range(1, 3)
  for (let i = 0; i < n; i++) cuts.add(rng.range(1, length - 1))
  const sorted = [...cuts].sort((a, b) => a - b)
  return sorted.map((c, i) => c - (sorted[i - 1] ?? 0)).concat(length - (sorted[sorted.length - 1] ?? 0))
}

export function generateCase (seed: number, index: number, target: Target): FuzzCase {
  const rng = caseRng(seed, index)
  const r = rng.next()
  let bytes: Buffer
  let origin: string
  let mustReject: string | null = null
  let mutations: string[] = []
  let hasHead = false
  if (r < 0.7) {
    const messages = generateMessages(rng, target, index)
    bytes = Buffer.from(messages.map((m) => m.bytes).join(''), 'latin1')
    hasHead = messages.some((m) => m.head)
    if (r < 0.45) {
      origin = 'grammar'
      mustReject = messages[0]?.mustReject ?? null
    } else {
      origin = 'grammar+mutation'
      const out = mutate(rng, bytes, rng.range(1, 3))
      bytes = out.bytes
      mutations = out.labels
    }
  } else {
    const seedCase: Seed = rng.pick(SEEDS)
    origin = `seed:${seedCase.name}+mutation`
    const out = mutate(rng, Buffer.from(seedCase.make(target, index), 'latin1'), rng.range(rng.chance(0.15) ? 0 : 1, 4))
    bytes = out.bytes
    mutations = out.labels
    if (mutations.length === 0) origin = `seed:${seedCase.name}`
  }
  if (mutations.length > 0) hasHead = hasHead || bytes.includes('HEAD')
  return { index, origin, bytes, mutations, mustReject, hasHead, segments: split(rng, bytes.length) }
}
