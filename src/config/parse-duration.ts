const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

export class DurationError extends Error {
  readonly code = 'bad_duration'
}

/** Node's timers overflow past this and fire after 1 ms instead. */
export const MAX_DURATION_MS = 2 ** 31 - 1

/** `500ms`, `5s`, `10m`, `1h`, or a bare number of seconds. Returns milliseconds; 0 means "no timeout". */
export function parseDuration (text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (match === null) throw new DurationError(`"${text}" is not a duration like 500ms, 5s, 10m or 1h`)
  const ms = Math.round(Number(match[1]) * (UNITS[match[2] ?? 's'] as number))
  if (ms > MAX_DURATION_MS) throw new DurationError(`"${text}" is longer than the longest timer Node allows (about 24 days)`)
  return ms
}
