const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

export class DurationError extends Error {
  readonly code = 'bad_duration'
}

/** `500ms`, `5s`, `10m`, `1h`, or a bare number of seconds. Returns milliseconds. */
export function parseDuration (text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (match === null) throw new DurationError(`"${text}" is not a duration like 500ms, 5s, 10m or 1h`)
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 's'] as number))
}
