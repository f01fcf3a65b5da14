import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { ParsedRouteFile } from './parse-route-file.js'
import type { RouteSpec } from './route-spec.js'

/** One services.d file as it stands: the specs in force and any current errors. */
export interface LoadedRouteFile {
  /** Shown to users: `services.d/chat.yaml`. */
  readonly file: string
  readonly specs: readonly RouteSpec[]
  /** Errors of the version on disk; empty when it is valid. */
  readonly errors: readonly string[]
  /** True when `specs` come from an earlier, valid version because the current one is bad. */
  readonly stale: boolean
}

const ROUTE_FILE = /^[^.].*\.(?:ya?ml|json)$/

interface Cached {
  readonly stamp: string
  readonly loaded: LoadedRouteFile
}

/**
 * The parser with ajv and yaml behind it, imported on the first route file:
 * a router with an empty or missing services.d never loads them (issue #11,
 * start-up).
 */
type ParseRouteFile = typeof import('./parse-route-file.js').parseRouteFile
let parser: Promise<ParseRouteFile> | null = null

function loadParser (): Promise<ParseRouteFile> {
  parser ??= import('./parse-route-file.js').then((m) => m.parseRouteFile)
  return parser
}

/** A file that makes the parser throw is rejected like any invalid file: it must never fail the rescan (issue #10). */
function parseOrReject (parseRouteFile: ParseRouteFile, file: string, text: string, socketDir: string): ParsedRouteFile {
  try {
    return parseRouteFile(file, text, socketDir)
  } catch (err) {
    return { ok: false, errors: [`${file}: cannot be parsed: ${(err as Error).message}`] }
  }
}

/**
 * Reads every `*.yaml`, `*.yml` and `*.json` in the services directory, in
 * file-name order. A file that fails to parse or validate keeps its last good
 * version in force (issue #4), so one bad edit never empties or changes the
 * table. Files are re-parsed only when their mtime, size or inode change.
 */
export class ServicesDirLoader {
  readonly #dir: string
  readonly #socketDir: string
  readonly #cache = new Map<string, Cached>()

  constructor (dir: string, socketDir: string) {
    this.#dir = dir
    this.#socketDir = socketDir
  }

  get dir (): string {
    return this.#dir
  }

  async load (): Promise<LoadedRouteFile[]> {
    const names = (await readdir(this.#dir).catch(() => [] as string[])).filter((n) => ROUTE_FILE.test(n)).sort()
    const loaded: LoadedRouteFile[] = []
    for (const name of names) {
      const file = await this.#loadOne(name)
      if (file !== null) loaded.push(file)
    }
    for (const name of [...this.#cache.keys()]) if (!names.includes(name)) this.#cache.delete(name)
    return loaded
  }

  async #loadOne (name: string): Promise<LoadedRouteFile | null> {
    const path = join(this.#dir, name)
    const stats = await stat(path).catch(() => null)
    if (stats === null || !stats.isFile()) return null
    const stamp = `${stats.ino}:${stats.size}:${stats.mtimeMs}`
    const cached = this.#cache.get(name)
    if (cached?.stamp === stamp) return cached.loaded
    const text = await readFile(path, 'utf8').catch(() => null)
    if (text === null) return cached?.loaded ?? null
    const shown = `${basename(this.#dir)}/${name}`
    const parsed = parseOrReject(await loadParser(), shown, text, this.#socketDir)
    const loaded: LoadedRouteFile = parsed.ok
      ? { file: shown, specs: parsed.specs, errors: [], stale: false }
      : { file: shown, specs: cached?.loaded.specs ?? [], errors: parsed.errors, stale: (cached?.loaded.specs.length ?? 0) > 0 }
    this.#cache.set(name, { stamp, loaded })
    return loaded
  }
}
