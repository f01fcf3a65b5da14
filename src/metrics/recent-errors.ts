/** One error answer, as the dashboard lists it (issue #12, contract §2). */
export interface RecentError {
  readonly at: string
  /** Route prefix, null when no route matched. */
  readonly route: string | null
  readonly method: string
  /** Request path (no query), cut to 200 chars: admin-only views, never a metric label. */
  readonly path: string
  readonly status: number
  /** The GatewayError code ('bad_gateway'…), or 'backend_5xx' for a 5xx the service sent itself. */
  readonly code: string
}

export const RECENT_ERRORS = 50
const MAX_PATH = 200

/** The request path of a request target, without its query (it may carry tokens), cut to 200 chars. */
export function errorPath (url: string): string {
  const query = url.indexOf('?')
  const path = query === -1 ? url : url.slice(0, query)
  return path.length > MAX_PATH ? path.slice(0, MAX_PATH) : path
}

/** The last 50 error answers, in a fixed ring: newest first when read. */
export class RecentErrors {
  readonly #ring: (RecentError | undefined)[] = new Array<RecentError | undefined>(RECENT_ERRORS)
  #next = 0

  add (error: RecentError): void {
    this.#ring[this.#next] = error
    this.#next = (this.#next + 1) % RECENT_ERRORS
  }

  list (): RecentError[] {
    const out: RecentError[] = []
    for (let i = 1; i <= RECENT_ERRORS; i++) {
      const error = this.#ring[(this.#next - i + RECENT_ERRORS) % RECENT_ERRORS]
      if (error === undefined) break
      out.push(error)
    }
    return out
  }
}
