/** What the generator hands the runner: bytes to send and what the checks may expect of them. */
export interface FuzzCase {
  readonly index: number
  /** How the bytes were made: 'grammar', 'grammar+mutation' or 'seed:<name>+mutation'. */
  readonly origin: string
  readonly bytes: Buffer
  /** Mutations applied, in order, for the failure report. */
  readonly mutations: readonly string[]
  /**
   * Set on unmutated grammar cases whose first request RFC 9112 says a
   * server MUST answer 400 (duplicate Host, space before colon, ...): that
   * request reaching a backend is a failure.
   */
  readonly mustReject: string | null
  /** A HEAD request is in the bytes: response bodies can't be framed from the stream alone. */
  readonly hasHead: boolean
  /** The bytes are written in these many segments, so heads split across reads. */
  readonly segments: readonly number[]
}

/** Where the generated requests go: the router's address and the canary routes. */
export interface Target {
  readonly port: number
}

/** `canary-<case>-<n>`: a request only a desynced parser would see. */
export const CANARY_TAG = /canary-(\d+)-([a-z0-9]+)/g
/** `c<case>-r0`: the first request of a case, checked by `mustReject`. */
export function primaryTag (index: number): string {
  return `c${index}-r0`
}
