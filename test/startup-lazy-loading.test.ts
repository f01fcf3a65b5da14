import { spawn } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t from 'tap'
import { cliEnv } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'

// Issue #11, start-up: what only some runs need is imported on first use. A
// router serving an empty socket directory, logging JSON to a pipe, must not
// have loaded the route-file parser's yaml, ws (the demo) or
// prom-client (loaded on the first scrape of /_sockrouter/metrics, issue #12).
// (ajv is not in the list: fastify itself loads it, for its ajv-compiler.) Checked in a child on the sources: the CommonJS packages that were
// loaded are in require.cache. (undici's lazy parts exist only in a build,
// build/undici-on-use.cjs; test/binary-smoke.test.ts routes through them.)
const MAIN = pathToFileURL(fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))).href
const LAZY = ['yaml', 'ws', 'prom-client']

const SCRIPT = `
import { createRequire } from 'node:module'
import { PassThrough } from 'node:stream'
const { main } = await import(${JSON.stringify(MAIN)})
const stdout = new PassThrough()
let text = ''
stdout.on('data', (chunk) => {
  text += chunk
  if (!text.includes('sockrouter ready')) return
  const loaded = Object.keys(createRequire(import.meta.url).cache)
  process.stdout.write(JSON.stringify(loaded) + '\\n', () => process.exit(0))
})
void main(['--socket-dir', process.env.DIR + '/sockets', '--listen', '127.0.0.1:0', '--log-level', 'info'], {}, { stdout, stderr: process.stderr })
`

function packagesLoaded (dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { env: cliEnv({ DIR: dir }) })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) { reject(new Error(`child exited ${code}: ${err}`)); return }
      const files = JSON.parse(out) as string[]
      resolve([...new Set(files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p): p is string => p !== undefined))])
    })
  })
}

t.test('a plain serve with an empty services.d loads no yaml, ws or prom-client', async (t) => {
  const loaded = await packagesLoaded(makeTempDir(t))
  t.ok(loaded.includes('fastify'), 'the check sees the packages that are loaded')
  for (const name of LAZY) t.notOk(loaded.includes(name), `${name} not loaded`)
})
