// `npm run build` (issue #11): the router as one CommonJS file, dist/sockrouter.cjs,
// which bin/sockrouter runs while it is newer than the sources. `--if-stale`
// (npm start's prestart) does nothing when the bundle is already fresh.
import { readFileSync, renameSync, mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { dropPerCallNames } from './drop-per-call-names.mjs'
import { OUTPUT_OPTIONS } from './output-options.mjs'
import { snapshotPlugin } from './snapshot-plugin.mjs'

const require = createRequire(import.meta.url)
const { BUNDLE, ROOT, freshBundle } = require('../bin/bundle-freshness.cjs')

export { ROOT }

const RUN_WHEN_MAIN = `if (require.main === module && typeof module.exports.main === 'function') {
  module.exports.main(process.argv.slice(2), process.env).then((code) => process.exit(code), (err) => {
    process.stderr.write('sockrouter: failed to start: ' + (err && err.message ? err.message : String(err)) + '\\n')
    process.exit(1)
  })
}`

/**
 * One esbuild run. The sources are ESM; CommonJS output loads faster and is
 * what a SEA main script must be, so import.meta.url is rebuilt from
 * __filename. ws's optional native helpers stay out: ws checks for them in a
 * try and works without.
 */
/**
 * `undici` (ours and @fastify/reply-from's) resolves to build/undici-on-use.cjs,
 * which loads undici's classes on first use instead of its whole index at
 * start-up (issue #11).
 */
const undiciOnUse = {
  name: 'undici-on-use',
  setup (build) {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: join(ROOT, 'build', 'undici-on-use.cjs') }))
  }
}

/**
 * `snapshot` (the single binary, issue #11): the bundle is the main script of
 * a V8 start-up snapshot, built by build/snapshot-plugin.mjs's rules with
 * `node` (the Node base the binary carries), and it has no run-when-main
 * footer: a snapshot's entry is its deserialize-main function.
 */
export async function bundle ({ entry, outfile, baked, snapshot = null }) {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    ...OUTPUT_OPTIONS,
    // The snapshot holds the bundle's source text: short local names keep the binary under issue #11's 130 MB.
    minifyIdentifiers: snapshot !== null,
    legalComments: 'none',
    external: ['bufferutil', 'utf-8-validate'],
    define: {
      SOCKROUTER_BUILD: JSON.stringify(baked),
      'import.meta.url': 'sockrouterModuleUrl'
    },
    banner: { js: "var sockrouterModuleUrl=require('node:url').pathToFileURL(__filename).href;" },
    // `node dist/sockrouter.cjs ARGS` runs the CLI as bin/sockrouter would (the tests' SOCKROUTER_TEST_CLI).
    footer: snapshot === null ? { js: RUN_WHEN_MAIN } : undefined,
    plugins: snapshot === null ? [undiciOnUse] : [undiciOnUse, snapshotPlugin({ root: ROOT, node: snapshot.node })],
    logLevel: 'warning',
    write: false
  })
  mkdirSync(dirname(outfile), { recursive: true })
  // Written beside, then renamed: a router starting meanwhile sees the old file or the new, never half of one.
  const partial = `${outfile}.${process.pid}.partial`
  writeFileSync(partial, dropPerCallNames(result.outputFiles[0].text).code)
  renameSync(partial, outfile)
  return outfile
}

export function packageVersion () {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version
}

function flag (name) {
  const i = process.argv.indexOf(name)
  return i === -1 ? undefined : process.argv[i + 1]
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--if-stale') && freshBundle() !== null) process.exit(0)
  const started = performance.now()
  // --outfile elsewhere (test/bundle-cli.test.ts) needs --root, the package root it reads services.d from.
  const outfile = flag('--outfile') ?? BUNDLE
  const rootFromHere = flag('--root') === undefined ? '../' : `${pathToFileURL(flag('--root')).href}/`
  await bundle({ entry: 'src/cli/main.ts', outfile, baked: { version: packageVersion(), rootFromHere, demoServicesYaml: null } })
  if (!process.argv.includes('--quiet')) console.log(`built ${outfile} in ${Math.round(performance.now() - started)} ms`)
}
