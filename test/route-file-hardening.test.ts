import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parseRouteFile } from '../src/config/parse-route-file.js'
import { httpGet } from './helpers/http-client.js'
import { runCli } from './helpers/run-cli.js'
import { startTestRouter, type TestRouter } from './helpers/router.js'
import { servicesDirWithGoodRoute, writeRouteFile } from './helpers/services-dir.js'

/**
 * Route files that used to crash the router or poison requests (issue #10,
 * defects 1 and 4, and the line order of defect 11). Each is refused as a
 * `file:line: field: message` error while the router keeps serving.
 */

const F = 'services.d/x.yaml'

function errorsOf (text: string): readonly string[] {
  const parsed = parseRouteFile(F, text, '/s')
  return parsed.ok ? [] : parsed.errors
}

function urlRoute (url: string): string {
  return `routes:\n  - prefix: /a\n    url: ${JSON.stringify(url)}\n`
}

function setRoute (name: string, value: string, rules = 'requestHeaders'): string {
  return `routes:\n  - prefix: /a\n    socket: a.sock\n    ${rules}:\n      set:\n        ${JSON.stringify(name)}: ${JSON.stringify(value)}\n`
}

const URL_MESSAGE = 'must be a URL like "http://127.0.0.1:8080" or "https://host/base"'
const VALUE_MESSAGE = 'is not a valid header value: no CR, LF, NUL or other control character, nothing above U+00FF (RFC 9110 §5.5)'

interface Health { status: string, configErrors: string[], rescanError: unknown }

async function health (url: string): Promise<Health> {
  return JSON.parse((await httpGet(`${url}/_sockrouter/health`)).text) as Health
}

interface Setup extends TestRouter { readonly servicesDir: string, readonly root: string }

/** A router whose one good file routes /good to a real backend. */
async function setup (t: Test): Promise<Setup> {
  const { root, servicesDir } = await servicesDirWithGoodRoute(t)
  const router = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  return { ...router, servicesDir, root }
}

function rejected (file: string) {
  return (line: Record<string, unknown>): boolean => line.level === 50 && line.file === file && Array.isArray(line.errors)
}

t.test('a url that new URL refuses is a file:line error, not an exception', async (t) => {
  for (const url of ['http://host:99999', 'http://a b', 'http://:80', 'https://[::1']) {
    t.same(errorsOf(urlRoute(url)), [`${F}:3: routes[0].url: ${URL_MESSAGE}`], url)
  }
  for (const url of ['http://127.0.0.1:8080', 'https://host/base', 'http://[::1]:65535/x']) {
    t.same(errorsOf(urlRoute(url)), [], `${url} is accepted`)
  }
})

t.test('a route file with a url new URL refuses never takes the router down', async (t) => {
  const { url, servicesDir, waitForLog, router } = await setup(t)
  for (const [name, bad] of [['port.yaml', 'http://host:99999'], ['space.yaml', 'http://a b']] as const) {
    writeRouteFile(servicesDir, name, urlRoute(bad))
    const line = await waitForLog(rejected(`services.d/${name}`))
    t.same(line.errors, [`services.d/${name}:3: routes[0].url: ${URL_MESSAGE}`], `${bad} is rejected with file:line: field`)
  }
  await router.rescan()
  const h = await health(url)
  t.equal(h.status, 'degraded')
  t.same(h.configErrors, [`services.d/port.yaml:3: routes[0].url: ${URL_MESSAGE}`, `services.d/space.yaml:3: routes[0].url: ${URL_MESSAGE}`])
  t.equal(h.rescanError, null, 'the rescan itself succeeded: the bad file was rejected, not thrown')
  t.equal((await httpGet(`${url}/good/`)).status, 200, 'the rest of the table keeps serving')
})

t.test('header names that are not RFC 9110 tokens are refused with file:line', async (t) => {
  t.same(errorsOf(setRoute('Bad Name', 'x')), [`${F}:6: routes[0].requestHeaders.set.Bad Name: is not a valid header name`])
  t.same(errorsOf(setRoute('X-A:b', 'x', 'responseHeaders')), [`${F}:6: routes[0].responseHeaders.set.X-A:b: is not a valid header name`])
  t.same(errorsOf('routes:\n  - prefix: /a\n    socket: a.sock\n    requestHeaders:\n      remove: ["X-Ok", "a\\r\\nb"]\n'), [`${F}:5: routes[0].requestHeaders.remove[1]: is not a valid header name`])
})

t.test('header values with CR, LF, NUL or other control characters are refused with file:line', async (t) => {
  for (const [what, value] of [['CR LF', 'a\r\nX-Evil: 1'], ['LF', 'a\nb'], ['CR', 'a\rb'], ['NUL', 'a\u0000b'], ['DEL', 'a\u007fb'], ['ESC', 'a\u001bb'], ['beyond U+00FF', '日本']] as const) {
    t.same(errorsOf(setRoute('X-A', value)), [`${F}:6: routes[0].requestHeaders.set.X-A: ${VALUE_MESSAGE}`], `request header value with ${what}`)
    t.same(errorsOf(setRoute('X-A', value, 'responseHeaders')), [`${F}:6: routes[0].responseHeaders.set.X-A: ${VALUE_MESSAGE}`], `response header value with ${what}`)
  }
  for (const value of ['', 'no-store', 'a\tb', 'café', 'x'.repeat(4000)]) {
    t.same(errorsOf(setRoute('X-A', value)), [], `${JSON.stringify(value.slice(0, 10))} is a valid value`)
  }
})

t.test('a route file with a CR LF header value is rejected by the router and by sockrouter check', async (t) => {
  const { url, servicesDir, root, waitForLog } = await setup(t)
  const text = setRoute('X-Inject', 'a\r\nX-Evil: 1')
  writeRouteFile(servicesDir, 'inject.yaml', text)
  const expected = `services.d/inject.yaml:6: routes[0].requestHeaders.set.X-Inject: ${VALUE_MESSAGE}`
  const line = await waitForLog(rejected('services.d/inject.yaml'))
  t.same(line.errors, [expected])
  t.same((await health(url)).configErrors, [expected])
  t.equal((await httpGet(`${url}/a/`)).status, 404, 'the route is not in the table')

  const check = await runCli(['check', '--socket-dir', join(root, 's'), '--services-dir', servicesDir])
  t.equal(check.code, 1)
  t.equal(check.stderr, `error: ${expected}\n`)
})

t.test('validation errors come in line order', async (t) => {
  // ajv reports in schema order (unknown keys first, then stripPrefix before websocket); the file's order is the reverse.
  const text = 'routes:\n  - prefix: /a\n    socket: a.sock\n    websocket: 1\n    stripPrefix: 3\n    oops: 1\n    timeouts:\n      connect: soon\n  - prefix: /b\n    typo: 1\n'
  t.same(errorsOf(text), [
    `${F}:4: routes[0].websocket: must be boolean`,
    `${F}:5: routes[0].stripPrefix: must be boolean`,
    `${F}:6: routes[0].oops: unknown key (a typo?)`,
    `${F}:8: routes[0].timeouts.connect: must be a duration like "5s"`,
    `${F}:9: routes[1]: needs exactly one of "socket" and "url"`,
    `${F}:10: routes[1].typo: unknown key (a typo?)`
  ])
})

t.test('a file whose aliases would expand past the limit is rejected, not thrown', async (t) => {
  const text = 'a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'
  const errors = errorsOf(text)
  t.equal(errors.length, 1)
  t.match(errors[0], /^services\.d\/x\.yaml: .*alias/i)
})
