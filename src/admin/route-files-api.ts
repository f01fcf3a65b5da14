import { mkdir, readFile, stat, unlink } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { LoadedRouteFile } from '../config/load-services-dir.js'
import { GatewayError } from '../forward/gateway-errors.js'
import { changesAfter, rescanErrorView, viewRoute, type AdminApiDeps, type RouteView } from './admin-api-deps.js'
import { readAdminBody } from './read-admin-body.js'
import { checkRouteFileName } from './route-file-name.js'
import { writeFileAtomically } from './write-file-atomically.js'

interface NameParams { name: string }

/** The routes in force that a file declares. */
function routesOf (deps: AdminApiDeps, file: string): RouteView[] {
  return deps.store.current.routes.filter((r) => r.file === file).map(viewRoute)
}

/** `services.d/chat.yaml`: the name users see in the loader's messages, so API errors read the same. */
function shownName (dir: string, name: string): string {
  return `${basename(dir)}/${name}`
}

function requireDir (deps: AdminApiDeps): string {
  if (deps.servicesDir === null) throw new GatewayError('conflict', { message: 'This router has no services directory (--services-dir), so route files cannot be changed.' })
  return deps.servicesDir
}

function describeFile (deps: AdminApiDeps, loaded: LoadedRouteFile): Record<string, unknown> {
  return {
    name: loaded.file.slice(loaded.file.lastIndexOf('/') + 1),
    file: loaded.file,
    routes: routesOf(deps, loaded.file),
    errors: loaded.errors,
    stale: loaded.stale
  }
}

/** Creates the services dir if it is missing (its parent must exist): the watcher follows its nearest ancestor, so it notices. */
async function ensureDir (dir: string): Promise<void> {
  await mkdir(dir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') return
    throw new GatewayError('conflict', { message: `The services directory does not exist and cannot be created (${err.code ?? 'error'}).` })
  })
}

/**
 * GET/PUT/DELETE /_sockrouter/api/route-files[/:name] (issue #12). A PUT is
 * validated by the services.d parser itself, so its errors are the same
 * `file:line: field: message` lines `sockrouter check` prints, written
 * atomically, and answered once a rescan has put it in force.
 */
export function registerRouteFilesApi (app: FastifyInstance, deps: AdminApiDeps): void {
  app.get('/api/route-files', async () => ({
    servicesDir: deps.servicesDir === null ? null : basename(deps.servicesDir),
    files: deps.routeFiles().map((f) => describeFile(deps, f))
  }))

  app.get<{ Params: NameParams }>('/api/route-files/:name', async (request) => {
    const name = checkRouteFileName(request.params.name)
    const dir = requireDir(deps)
    const text = await readFile(join(dir, name), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR') throw new GatewayError('not_found', { message: 'No route file by that name.' })
      throw err
    })
    const file = shownName(dir, name)
    const loaded = deps.routeFiles().find((f) => f.file === file)
    // Parsed as the loader does (YAML 1.2, JSON included); null when it does not parse, and `errors` says why.
    const { parse } = await import('yaml')
    let content: unknown = null
    try {
      content = parse(text) ?? null
    } catch {
      content = null
    }
    return { name, file, content, text, routes: routesOf(deps, file), errors: loaded?.errors ?? [], stale: loaded?.stale ?? false }
  })

  app.put<{ Params: NameParams }>('/api/route-files/:name', async (request, reply) => {
    const name = checkRouteFileName(request.params.name)
    const dir = requireDir(deps)
    const body = await readAdminBody(request.raw)
    const file = shownName(dir, name)
    // Loaded on use, as the services.d loader does: ajv and yaml stay out of start-up (issue #11).
    const { parseRouteFile } = await import('../config/parse-route-file.js')
    const parsed = parseRouteFile(file, body.text, deps.socketDir)
    if (!parsed.ok) throw new GatewayError('invalid_route_file', { details: parsed.errors })
    let created = false
    const changes = await changesAfter(deps, async () => {
      await ensureDir(dir)
      created = (await stat(join(dir, name)).catch(() => null)) === null
      await writeFileAtomically(dir, name, body.text)
    })
    const loaded = deps.routeFiles().find((f) => f.file === file)
    reply.code(created ? 201 : 200)
    // `skipped` as in /_sockrouter/health: a prefix this file shares with another leaves one of them out, which the
    // 201 alone would hide (found by a new-user trial).
    return { name, file, created, routes: routesOf(deps, file), errors: loaded?.errors ?? [], skipped: deps.skipped(), changes, rescanError: rescanErrorView(deps) }
  })

  app.delete<{ Params: NameParams }>('/api/route-files/:name', async (request) => {
    const name = checkRouteFileName(request.params.name)
    const dir = requireDir(deps)
    const changes = await changesAfter(deps, async () => {
      await unlink(join(dir, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw new GatewayError('not_found', { message: 'No route file by that name.' })
        throw err
      })
    })
    return { name, file: shownName(dir, name), deleted: true, skipped: deps.skipped(), changes, rescanError: rescanErrorView(deps) }
  })
}
