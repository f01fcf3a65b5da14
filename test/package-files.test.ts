import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

/** `npm pack` ships only what a user runs (issue #11): `files` in package.json. */

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))

t.test('npm pack --dry-run lists no test, bench, docs or build files', async (t) => {
  // --ignore-scripts: prepack would build the bundle, which is not what is under test here.
  const { stdout } = await run('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: ROOT })
  const paths = ((JSON.parse(stdout) as [{ files: { path: string }[] }])[0]).files.map((f) => f.path)
  t.same(paths.filter((p) => /^(test|bench|docs|build|\.ci|coverage|run)\//.test(p) || /\.test\.ts$/.test(p)), [], 'nothing for developers only')
  for (const needed of ['bin/sockrouter', 'bin/bundle-freshness.cjs', 'src/cli/main.ts', 'services.d/demo.yaml', 'package.json', 'README.md']) {
    t.ok(paths.includes(needed), `ships ${needed}`)
  }
  t.notOk(paths.includes('dist/sockrouter'), 'never the single binary')
})
