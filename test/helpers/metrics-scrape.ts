import { httpGet } from './http-client.js'

export interface Scrape {
  readonly status: number
  readonly contentType: string | undefined
  readonly text: string
  /** `name{labels}` → value, for every sample line. */
  readonly samples: ReadonlyMap<string, number>
  /** The sample lines of sockrouter's own metrics (sockrouter_*). */
  readonly ownSeries: readonly string[]
}

/** GET /_sockrouter/metrics, parsed. */
export async function scrapeMetrics (baseUrl: string): Promise<Scrape> {
  const res = await httpGet(`${baseUrl}/_sockrouter/metrics`)
  const samples = new Map<string, number>()
  const lines = res.text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
  for (const line of lines) {
    const space = line.lastIndexOf(' ')
    samples.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return { status: res.status, contentType: res.headers['content-type'], text: res.text, samples, ownSeries: lines.filter((l) => l.startsWith('sockrouter_')) }
}
