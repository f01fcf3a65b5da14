import { createHash } from 'node:crypto'
import t from 'tap'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'

// Issue #12, item 3: the dashboard is one self-contained page, whatever the browser.

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

t.test('GET /_sockrouter/ is one self-contained page whose CSP admits exactly its own script and style', async (t) => {
  const { url } = await startTestRouter(t, { socketDir: makeTempDir(t) })
  const res = await httpGet(`${url}/_sockrouter/`, { headers: { accept: '*/*' } })
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  const csp = String(res.headers['content-security-policy'])
  const script = /<script>([\s\S]*?)<\/script>/.exec(res.text)?.[1] ?? ''
  const style = /<style>([\s\S]*?)<\/style>/.exec(res.text)?.[1] ?? ''
  t.ok(script.length > 1000 && style.length > 1000, 'inline script and style')
  t.match(csp, `script-src ${sha256(script)};`)
  t.match(csp, `style-src ${sha256(style)};`)
  t.match(csp, /default-src 'none'/)
  t.match(csp, /connect-src 'self'/)
  t.equal((res.text.match(/<script/g) ?? []).length, 1, 'one script, inline')
  t.notMatch(res.text, /<script[^>]+src=|<link[^>]+stylesheet|@import/, 'nothing loaded from elsewhere')
  t.notMatch(res.text.replace('http://www.w3.org/2000/svg', ''), /https?:\/\//, 'no absolute URL: it works behind a path prefix, with no CDN')
  t.match(script, /new EventSource\('events'\)/, 'the feed at a relative URL')
  t.notMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'nothing from the feed is parsed as markup')
})

t.test('GET /_sockrouter redirects to the dashboard with a relative Location', async (t) => {
  const { url } = await startTestRouter(t, { socketDir: makeTempDir(t) })
  const res = await httpGet(`${url}/_sockrouter`)
  t.equal(res.status, 301)
  t.equal(res.headers.location, '_sockrouter/')
  t.equal(new URL(String(res.headers.location), `${url}/_sockrouter`).pathname, '/_sockrouter/')
  t.equal(new URL(String(res.headers.location), 'https://example.test/ops/_sockrouter').pathname, '/ops/_sockrouter/', 'and behind a path prefix')
})
