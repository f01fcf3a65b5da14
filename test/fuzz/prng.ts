/**
 * A small seeded PRNG (mulberry32) and the per-case derivation: case K of
 * seed S always draws the same numbers, whatever ran before it, so any
 * failure replays alone with `--seed S --case K` (issue #10).
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next (): number
  /** Integer in [0, n). */
  int (n: number): number
  /** Integer in [lo, hi]. */
  range (lo: number, hi: number): number
  chance (p: number): boolean
  pick<T> (items: readonly T[]): T
}

export function makeRng (seed: number): Rng {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return {
    next,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list')
      return items[int(items.length)] as T
    }
  }
}

/** splitmix32-style mixing of (seed, case index) into one 32-bit state. */
export function caseRng (seed: number, index: number): Rng {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  return makeRng((h ^ (h >>> 16)) >>> 0)
}
