import { rmSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parseRouteFile } from '../src/config/parse-route-file.js'
import type { RouteTable } from '../src/routing/route-types.js'
import { startBackend, type Handler } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter, waitForTable, type TestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { writeRouteFile } from './helpers/services-dir.js'

/**
 * services.d validation (issue #4) through the real router: real temp dirs,
 * real backends on unix sockets, real files written into the watched
 * directory while the router runs. Every wait is on an event (a log line or a
 * table swap) with a timeout; nothing sleeps.
 */

interface Health {
  status: string
  routes: number
  configErrors: string[]
}


/** Answers with its own name and the path it saw, so a test knows which backend served. */
function named (name: string): Handler {
  return (req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ backend: name, url: req.url }))
    })
  }
}

async function health (url: string): Promise<Health> {
  const res = await httpGet(`${url}/_sockrouter/health`)
  return JSON.parse(res.text) as Health
}

async function served (url: string, path: string): Promise<{ status: number, backend?: string, url?: string }> {
  const res = await httpGet(`${url}${path}`)
  return res.status === 200 ? { status: 200, ...(JSON.parse(res.text) as { backend: string, url: string }) } : { status: res.status }
}

async function assertHealthy (t: Test, url: string, what = 'health is ok with no config errors'): Promise<void> {
  const h = await health(url)
  t.same({ status: h.status, configErrors: h.configErrors }, { status: 'ok', configErrors: [] }, what)
}

function prefixes (table: RouteTable): string[] {
  return table.routes.map((r) => `${r.prefix} ${r.upstream.label} ${r.file ?? 'discovered'}`)
}

/** An error log line about `file` (as users see it: `services.d/<name>`). */
function rejected (file: string) {
  return (line: Record<string, unknown>): boolean => line.level === 50 && line.file === file && Array.isArray(line.errors)
}

interface Setup extends TestRouter {
  readonly root: string
  readonly servicesDir: string
  readonly socketDir: string
}

/**
 * A router with one good file: /good → b/good.sock (outside the socket dir,
 * so nothing is discovered and the table holds exactly the file routes).
 */
async function setup (t: Test, files: Record<string, string> = {}): Promise<Setup> {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'services.d')
  await startBackend(t, join(root, 'b', 'good.sock'), named('good'))
  writeRouteFile(servicesDir, 'good.yaml', `routes:\n  - prefix: /good\n    socket: ${join(root, 'b', 'good.sock')}\n`)
  for (const [name, text] of Object.entries(files)) writeRouteFile(servicesDir, name, text)
  const router = await startTestRouter(t, { socketDir, servicesDir })
  return { ...router, root, servicesDir, socketDir }
}

interface BadCase {
  readonly name: string
  readonly text: string
  /** The line the error must name, and the field (empty: a syntax error names none). */
  readonly line: number
  readonly field: string
  readonly message: RegExp
}

const BAD_CASES: readonly BadCase[] = [
  {
    name: 'a YAML syntax error',
    text: 'routes:\n  - prefix: /bad\n    socket: bad.sock\n    websocket: yes please: no\n',
    line: 4,
    field: '',
    message: /Nested mappings are not allowed in compact mappings/
  },
  {
    name: 'a wrong type',
    text: 'routes:\n  - prefix: /bad\n    socket: bad.sock\n    websocket: "no"\n',
    line: 4,
    field: 'routes[0].websocket',
    message: /must be boolean/
  },
  {
    name: 'an unknown key (a typo)',
    text: 'routes:\n  - prefix: /bad\n    socket: bad.sock\n    stripPrefx: false\n',
    line: 4,
    field: 'routes[0].stripPrefx',
    message: /unknown key/
  },
  {
    name: 'both socket and url',
    text: 'routes:\n  - prefix: /fine\n    socket: fine.sock\n  - prefix: /bad\n    socket: bad.sock\n    url: http://127.0.0.1:9\n',
    line: 4,
    field: 'routes[1]',
    message: /needs exactly one of "socket" and "url"/
  },
  {
    name: 'neither socket nor url',
    text: 'routes:\n  - prefix: /bad\n    websocket: false\n',
    line: 2,
    field: 'routes[0]',
    message: /needs exactly one of "socket" and "url"/
  },
  {
    name: 'a bad duration',
    text: 'routes:\n  - prefix: /bad\n    socket: bad.sock\n    timeouts:\n      connect: 5 seconds\n',
    line: 5,
    field: 'routes[0].timeouts.connect',
    message: /must be a duration like "5s"/
  }
]

function escape (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

t.test('an invalid file written into a live router is rejected with file, line and field; the rest keeps serving', async (t) => {
  for (const c of BAD_CASES) {
    t.test(c.name, async (t) => {
      const { url, router, servicesDir, waitForLog } = await setup(t)
      const before = prefixes(router.store.current)
      t.same(before.map((p) => p.split(' ')[0]), ['/good/'])
      t.same(await served(url, '/good/x'), { status: 200, backend: 'good', url: '/x' })
      t.equal((await health(url)).status, 'ok')

      writeRouteFile(servicesDir, 'bad.yaml', c.text)
      const line = await waitForLog(rejected('services.d/bad.yaml'))
      const errors = line.errors as string[]
      t.ok(errors.length >= 1, 'at least one error')
      const first = errors[0] ?? ''
      t.match(first, /^services\.d\/bad\.yaml(:\d+)?: /, 'names the file as users see it')
      t.match(first, new RegExp(`^services\\.d/bad\\.yaml:${c.line}: `), `names line ${c.line}`)
      if (c.field !== '') t.match(first, new RegExp(`: ${escape(c.field)}: `), `names the field ${c.field}`)
      t.match(first, c.message)
      t.match(String(line.msg), /^services\.d\/bad\.yaml rejected: /, 'the log message says which file was rejected')
      t.equal(line.keptLastGood, false, 'nothing earlier to keep')

      const h = await health(url)
      t.equal(h.status, 'degraded')
      t.same(h.configErrors, errors, 'health shows the same error lines')
      t.same(router.configErrors(), errors)

      t.same(prefixes(router.store.current), before, 'the table is unchanged: nothing from the bad file, nothing lost')
      t.same(await served(url, '/good/y'), { status: 200, backend: 'good', url: '/y' }, 'the good file keeps serving')
      t.equal((await httpGet(`${url}/bad/`)).status, 404, 'no route from the rejected file')
      if (c.name === 'both socket and url') t.equal((await httpGet(`${url}/fine/`)).status, 404, 'a valid route inside a rejected file is not routed either')
    })
  }
})

t.test('a file that is bad at startup is reported; fixing it clears the errors and routes it', async (t) => {
  const { url, router, root, servicesDir, waitForLog } = await setup(t, {
    'chat.yaml': 'routes:\n  - prefix: /chat\n    socket: chat.sock\n    timeouts:\n      connect: soon\n'
  })
  const line = await waitForLog(rejected('services.d/chat.yaml'))
  t.same(line.errors, ['services.d/chat.yaml:5: routes[0].timeouts.connect: must be a duration like "5s"'])
  t.match(await health(url), { status: 'degraded', configErrors: ['services.d/chat.yaml:5: routes[0].timeouts.connect: must be a duration like "5s"'] })
  t.same(await served(url, '/good/'), { status: 200, backend: 'good', url: '/' })

  await startBackend(t, join(root, 'b', 'chat.sock'), named('chat'))
  writeRouteFile(servicesDir, 'chat.yaml', `routes:\n  - prefix: /chat\n    socket: ${join(root, 'b', 'chat.sock')}\n    timeouts:\n      connect: 5s\n`)
  await waitForTable(router, (tb) => tb.byKey.get('chat')?.status === 'up', 5000, '/chat up')
  await assertHealthy(t, url)
  t.same(router.configErrors(), [])
  t.same(await served(url, '/chat/hi'), { status: 200, backend: 'chat', url: '/hi' })
})

t.test('deleting a bad file clears its errors', async (t) => {
  const { url, router, servicesDir, waitForLog } = await setup(t, { 'typo.yaml': 'routes:\n  - prefx: /t\n    socket: t.sock\n' })
  const line = await waitForLog(rejected('services.d/typo.yaml'))
  t.same(line.errors, [
    'services.d/typo.yaml:2: routes[0]: missing required key "prefix"',
    'services.d/typo.yaml:2: routes[0].prefx: unknown key (a typo?)'
  ])
  t.equal((await health(url)).status, 'degraded')
  // The table does not change when a file that contributed nothing goes, so wait on the snapshot source.
  const cleared = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { router.discovery.off('snapshot', check); reject(new Error('no clean snapshot within 5 s')) }, 5000)
    function check (): void {
      if ((router.discovery.last?.files ?? []).some((f) => f.errors.length > 0)) return
      clearTimeout(timer)
      router.discovery.off('snapshot', check)
      resolve()
    }
    router.discovery.on('snapshot', check)
  })
  rmSync(join(servicesDir, 'typo.yaml'))
  await cleared
  await assertHealthy(t, url)
  t.same(await served(url, '/good/'), { status: 200, backend: 'good', url: '/' })
})

t.test('a bad edit of a good file keeps its last good version; fixing it applies the fix and clears the errors', async (t) => {
  const root = makeTempDir(t)
  const chatSocket = join(root, 'b', 'chat.sock')
  const { url, router, servicesDir, waitForLog, logs } = await setup(t, {
    'chat.yaml': `routes:\n  - prefix: /chat\n    socket: ${join(root, 'b', 'chat.sock')}\n    rewrite: /v1/\n`
  })
  await startBackend(t, chatSocket, named('chat'))
  await waitForTable(router, (tb) => tb.byKey.get('chat')?.status === 'up', 5000, '/chat up')
  t.same(await served(url, '/chat/x'), { status: 200, backend: 'chat', url: '/v1/x' })
  const before = prefixes(router.store.current)

  // A bad edit that would also change the rewrite: none of it may take effect.
  writeRouteFile(servicesDir, 'chat.yaml', `routes:\n  - prefix: /chat\n    socket: ${chatSocket}\n    rewrite: /v2/\n    timeouts:\n      upstream: forever\n`)
  const line = await waitForLog(rejected('services.d/chat.yaml'))
  t.same(line.errors, ['services.d/chat.yaml:6: routes[0].timeouts.upstream: must be a duration like "5s"'])
  t.equal(line.keptLastGood, true)
  t.match(String(line.msg), /^services\.d\/chat\.yaml rejected; its last good version stays in force: services\.d\/chat\.yaml:6: routes\[0\]\.timeouts\.upstream: /)
  t.same(prefixes(router.store.current), before, 'the table is unchanged')
  t.equal(router.store.current.byKey.get('chat')?.options.rewrite, '/v1/')
  t.same(await served(url, '/chat/x'), { status: 200, backend: 'chat', url: '/v1/x' }, 'the last good version still answers')
  t.same(await served(url, '/good/'), { status: 200, backend: 'good', url: '/' })
  const h = await health(url)
  t.equal(h.status, 'degraded')
  t.same(h.configErrors, ['services.d/chat.yaml:6: routes[0].timeouts.upstream: must be a duration like "5s"'])

  // A second, different bad edit: still the first good version, the new error reported.
  writeRouteFile(servicesDir, 'chat.yaml', `routes:\n  - prefix: /chat\n    sockt: ${chatSocket}\n`)
  const second = await waitForLog((l) => rejected('services.d/chat.yaml')(l) && l !== line)
  t.equal(second.keptLastGood, true)
  t.match((second.errors as string[]).join('\n'), /services\.d\/chat\.yaml:3: routes\[0\]\.sockt: unknown key/)
  t.same(await served(url, '/chat/x'), { status: 200, backend: 'chat', url: '/v1/x' }, 'still the last good version')
  t.equal((await health(url)).status, 'degraded')

  // The fix: its change applies and the errors clear.
  writeRouteFile(servicesDir, 'chat.yaml', `routes:\n  - prefix: /chat\n    socket: ${chatSocket}\n    rewrite: /v2/\n    timeouts:\n      upstream: 30s\n`)
  await waitForTable(router, (tb) => tb.byKey.get('chat')?.options.rewrite === '/v2/', 5000, 'the fixed /chat')
  t.same(await served(url, '/chat/x'), { status: 200, backend: 'chat', url: '/v2/x' })
  const fixed = await health(url)
  t.equal(fixed.status, 'ok')
  t.same(fixed.configErrors, [])
  t.same(router.configErrors(), [])
  t.equal(logs.filter((l) => rejected('services.d/chat.yaml')(l)).length, 2, 'each distinct error was logged once')
})

t.test('a .json file and a .yml file both load, next to a .yaml one; other files are ignored', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'services.d')
  await startBackend(t, join(root, 'b', 'j.sock'), named('json'))
  await startBackend(t, join(root, 'b', 'y.sock'), named('yml'))
  const { url, router, waitForLog } = await startTestRouter(t, { socketDir, servicesDir })
  t.same(router.store.current.routes, [], 'nothing yet: the services dir does not even exist')

  writeRouteFile(servicesDir, 'api.json', JSON.stringify({ routes: [{ prefix: '/j', socket: join(root, 'b', 'j.sock'), stripPrefix: false }] }, null, 2))
  writeRouteFile(servicesDir, 'web.yml', `routes:\n  - prefix: /y\n    socket: ${join(root, 'b', 'y.sock')}\n`)
  writeRouteFile(servicesDir, 'notes.txt', 'routes: [this is not read]\n')
  writeRouteFile(servicesDir, 'old.yaml.bak', 'routes: [nor is this]\n')
  await waitForTable(router, (tb) => tb.byKey.has('j') && tb.byKey.has('y'), 5000, '/j and /y')
  t.same(await served(url, '/j/a'), { status: 200, backend: 'json', url: '/j/a' })
  t.same(await served(url, '/y/b'), { status: 200, backend: 'yml', url: '/b' })
  t.equal(router.store.current.byKey.get('j')?.file, 'services.d/api.json')
  t.equal(router.store.current.byKey.get('y')?.file, 'services.d/web.yml')
  await assertHealthy(t, url, 'the .txt and .bak files are not read')

  // A JSON file gets line numbers too.
  writeRouteFile(servicesDir, 'more.json', '{\n  "routes": [\n    {\n      "prefix": "/m",\n      "socket": "m.sock",\n      "maxTunnels": 0\n    }\n  ]\n}\n')
  const line = await waitForLog(rejected('services.d/more.json'))
  t.same(line.errors, ['services.d/more.json:6: routes[0].maxTunnels: must be >= 1'])
  t.same(await served(url, '/j/a'), { status: 200, backend: 'json', url: '/j/a' })
})

/**
 * Two files declare /x. Whatever order they appear in, a.yaml (first by
 * name) wins and b.yaml's route is logged as a conflict and skipped.
 */
async function duplicatePrefix (t: Test, order: readonly ['a.yaml', 'b.yaml'] | readonly ['b.yaml', 'a.yaml']): Promise<void> {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'services.d')
  const a = await startBackend(t, join(root, 'b', 'a.sock'), named('a'))
  const b = await startBackend(t, join(root, 'b', 'b.sock'), named('b'))
  const { url, router, waitForLog, logs } = await startTestRouter(t, { socketDir, servicesDir })
  const text = { 'a.yaml': `routes:\n  - prefix: /x\n    socket: ${a.socketPath}\n`, 'b.yaml': `routes:\n  - prefix: /x/\n    socket: ${b.socketPath}\n  - prefix: /only-b\n    socket: ${b.socketPath}\n` }
  const [first, second] = order

  writeRouteFile(servicesDir, first, text[first])
  await waitForTable(router, (tb) => tb.byKey.get('x')?.file === `services.d/${first}`, 5000, `/x from ${first}`)
  t.same(await served(url, '/x/'), { status: 200, backend: first[0], url: '/' }, `alone, ${first} serves /x`)

  writeRouteFile(servicesDir, second, text[second])
  await waitForTable(router, (tb) => tb.byKey.has('x') && tb.byKey.has('only-b') && tb.byKey.get('x')?.file === 'services.d/a.yaml', 5000, 'both files loaded, a.yaml owning /x')
  const conflict = await waitForLog((l) => l.level === 40 && String(l.msg).startsWith('not routed: services.d/b.yaml routes[0]'))
  t.equal(conflict.msg, 'not routed: services.d/b.yaml routes[0]: prefix /x/ is already declared by services.d/a.yaml')
  t.same(await served(url, '/x/'), { status: 200, backend: 'a', url: '/' }, 'the first file by name wins')
  t.same(await served(url, '/only-b/'), { status: 200, backend: 'b', url: '/' }, 'the loser\'s other routes still load')
  t.same(prefixes(router.store.current), [
    `/only-b/ ${b.socketPath.split('/').pop() ?? ''} services.d/b.yaml`,
    `/x/ ${a.socketPath.split('/').pop() ?? ''} services.d/a.yaml`
  ])
  // The same problem makes `sockrouter check` exit 1, so health says degraded and names it (issue #12).
  t.match(await health(url), { status: 'degraded', configErrors: [], skipped: [{ what: 'services.d/b.yaml routes[0]', reason: 'prefix /x/ is already declared by services.d/a.yaml' }] }, 'a conflict is not a file error, but it degrades')

  await router.rescan()
  t.equal(logs.filter((l) => String(l.msg).startsWith('not routed: services.d/b.yaml')).length, 1, 'the conflict is logged once, not on every rescan')

  // Removing the winner hands /x to the other file.
  rmSync(join(servicesDir, 'a.yaml'))
  await waitForTable(router, (tb) => tb.byKey.get('x')?.file === 'services.d/b.yaml', 5000, '/x from b.yaml')
  t.same(await served(url, '/x/'), { status: 200, backend: 'b', url: '/' })
}

t.test('two files claiming the same prefix: the first by file name wins, whichever was written first', async (t) => {
  t.test('a.yaml written first', (t) => duplicatePrefix(t, ['a.yaml', 'b.yaml']))
  t.test('b.yaml written first', (t) => duplicatePrefix(t, ['b.yaml', 'a.yaml']))
})

t.test('parseRouteFile: exact messages', async (t) => {
  const f = 'services.d/chat.yaml'
  const errors = (text: string): readonly string[] => {
    const parsed = parseRouteFile(f, text, '/run/s')
    return parsed.ok ? [] : parsed.errors
  }
  t.same(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    timeouts:\n      connect: 5 s\n'), [`${f}:5: routes[0].timeouts.connect: must be a duration like "5s"`])
  t.same(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    timeouts:\n      tunnelIdle: 30d\n'), [`${f}:5: routes[0].timeouts.tunnelIdle: must be a duration like "5s"`])
  t.same(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    timeouts:\n      upstream: 9999h\n'), [`${f}:5: routes[0].timeouts.upstream: must be a duration like "5s"`], 'past the longest Node timer')
  t.same(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    websocket: "no"\n'), [`${f}:4: routes[0].websocket: must be boolean`])
  t.same(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    maxTunnels: lots\n'), [`${f}:4: routes[0].maxTunnels: must be integer`])
  t.same(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    stripPrefx: false\n'), [`${f}:4: routes[0].stripPrefx: unknown key (a typo?)`])
  t.same(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    timeouts:\n      conect: 1s\n'), [`${f}:5: routes[0].timeouts.conect: unknown key (a typo?)`])
  t.same(errors('route:\n  - prefix: /chat\n')[0], `${f}:1: (top level): missing required key "routes"`)
  // An unknown key whose value is a block: the line should be the key's, not its value's.
  t.same(errors('route:\n  - prefix: /chat\n')[1], `${f}:1: route: unknown key (a typo?)`, 'unknown top-level key with a block value')
  t.same(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    timeout:\n      connect: 1s\n'), [`${f}:4: routes[0].timeout: unknown key (a typo?)`], 'unknown route key with a block value')
  t.match(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    timeout:\n      connect: 1s\n'), [/^services\.d\/chat\.yaml:\d+: routes\[0\]\.timeout: unknown key \(a typo\?\)$/], 'still names file and field')
  t.same(errors('routes:\n  - prefix: /a\n    socket: a.sock\n  - prefix: /chat\n    socket: chat.sock\n    url: http://127.0.0.1:8080\n'), [`${f}:4: routes[1]: needs exactly one of "socket" and "url"`])
  t.same(errors('routes:\n  - prefix: /chat\n'), [`${f}:2: routes[0]: needs exactly one of "socket" and "url"`])
  t.same(errors('routes:\n  - prefix: chat\n    socket: chat.sock\n'), [`${f}:2: routes[0].prefix: must be a path like "/chat" or "/chat/ui"`])
  t.same(errors('routes:\n  - prefix: /chat\n    url: ftp://host\n'), [`${f}:3: routes[0].url: must be a URL like "http://127.0.0.1:8080" or "https://host/base"`])
  t.same(errors('routes: 3\n'), [`${f}:1: routes: must be array`])
  t.same(errors('routes:\n  - prefix: /_sockrouter\n    socket: x.sock\n'), [`${f}:2: routes[0].prefix: /_sockrouter is reserved for the router`])

  // YAML syntax errors name the file and the parser's message; the line is where the parser stopped.
  const syntax = errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    websocket: yes please: no\n')
  t.equal(syntax.length, 1)
  t.match(syntax[0], /^services\.d\/chat\.yaml:\d+: Nested mappings are not allowed in compact mappings$/)
  t.equal(syntax[0], `${f}:4: Nested mappings are not allowed in compact mappings`, 'the syntax error is on line 4')
  t.same(errors('routes:\n  - prefix: /chat\n    socket: chat.sock\n    socket: other.sock\n'), [`${f}:4: Map keys must be unique`], 'a duplicate key is on line 4')
  t.same(errors('{\n  "routes": [\n    {\n      "prefix": "/j",\n      "socket": "j.sock",\n    }\n  \n}\n').map((e) => e.split(':')[1]), ['8', '8'], 'an unclosed JSON array is reported at line 8')

  // Valid files: defaults applied, relative sockets resolved against the socket dir.
  const ok = parseRouteFile(f, 'routes:\n  - prefix: /chat/ui/\n    socket: chat/ui.sock\n    timeouts: { connect: 500ms, tunnelIdle: 0s }\n  - prefix: /tcp\n    url: https://example.test:8443/base/\n', '/run/s')
  t.ok(ok.ok)
  if (ok.ok) {
    t.match(ok.specs[0], { prefix: '/chat/ui', target: { kind: 'socket', socketPath: '/run/s/chat/ui.sock' }, stripPrefix: true, rewrite: '/', websocket: true, changeOrigin: false, rewriteLocation: true, maxTunnels: null, timeouts: { connectMs: 500, tunnelIdleMs: 0 }, file: f, index: 0 })
    t.match(ok.specs[1], { prefix: '/tcp', target: { kind: 'url', origin: 'https://example.test:8443', basePath: '/base', secure: true }, index: 1 })
  }
  t.same(parseRouteFile(f, '# only comments\n', '/run/s'), { ok: true, specs: [] }, 'an empty file declares nothing')
  t.same(parseRouteFile(f, '{"routes": []}', '/run/s'), { ok: true, specs: [] })
})
