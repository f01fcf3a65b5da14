import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { withoutChildCoverage } from './helpers/child-coverage.js'
import { makeTempDir } from './helpers/temp-dir.js'

/**
 * The esbuild bundle (issue #11): the CLI test files that drive a real
 * sockrouter process run again, unchanged, with SOCKROUTER_TEST_CLI pointing
 * at a bundle built from the current sources; and bin/sockrouter runs a
 * bundle only while it is newer than the sources.
 */

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI_TEST_FILES = ['test/cli.test.ts', 'test/services-cli.test.ts', 'test/services-reload.test.ts']

// Three whole test files run inside this one, one after another; tap's 60 s per file is meant for one.
t.setTimeout(900_000)

async function runTestFile (file: string, cli: string): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, file)], {
    cwd: ROOT,
    // tap's own 30 s default for a file run by hand would cut a file short on a busy machine.
    env: withoutChildCoverage({ ...process.env, SOCKROUTER_TEST_CLI: cli, TAP: '0', TAP_TIMEOUT: '300' }),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, output }
}

t.test('the CLI tests pass against the bundle', async (t) => {
  const dir = makeTempDir(t)
  const bundle = join(dir, 'sockrouter.cjs')
  await run(process.execPath, [join(ROOT, 'build/bundle.mjs'), '--outfile', bundle, '--root', ROOT, '--quiet'])
  for (const file of CLI_TEST_FILES) {
    const { code, output } = await runTestFile(file, bundle)
    const failures = output.split('\n').filter((l) => /^\s*not ok /.test(l))
    t.same(failures, [], `${file}: no failing test`)
    t.equal(code, 0, `${file} exits 0`)
    t.match(output, /^1\.\.[1-9]\d*$/m, `${file} ran its tests`)
  }
})

/** A copy of bin/ beside a stand-in source tree and bundle, each saying which one ran. */
function fakePackage (t: Parameters<typeof makeTempDir>[0]): { root: string, bin: string, source: string, bundle: string } {
  const root = makeTempDir(t)
  mkdirSync(join(root, 'bin'))
  for (const name of ['sockrouter', 'bundle-freshness.cjs', 'package.json']) copyFileSync(join(ROOT, 'bin', name), join(root, 'bin', name))
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'))
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n')
  mkdirSync(join(root, 'src', 'cli'), { recursive: true })
  const source = join(root, 'src', 'cli', 'main.ts')
  writeFileSync(source, "export async function main (): Promise<number> { process.stdout.write('source\\n'); return 0 }\n")
  mkdirSync(join(root, 'dist'))
  const bundle = join(root, 'dist', 'sockrouter.cjs')
  writeFileSync(bundle, "exports.main = async () => { process.stdout.write('bundle\\n'); return 0 }\n")
  return { root, bin: join(root, 'bin', 'sockrouter'), source, bundle }
}

function age (path: string, secondsAgo: number): void {
  const when = new Date(Date.now() - secondsAgo * 1000)
  utimesSync(path, when, when)
}

async function whichRuns (bin: string): Promise<string> {
  return (await run(process.execPath, [bin])).stdout.trim()
}

t.test('bin/sockrouter runs the bundle while it is newer than every source', async (t) => {
  const pkg = fakePackage(t)
  // Directories count too: a deleted source makes the bundle stale.
  for (const path of [pkg.source, join(pkg.root, 'src', 'cli'), join(pkg.root, 'src'), join(pkg.root, 'package.json')]) age(path, 60)
  t.equal(await whichRuns(pkg.bin), 'bundle')
})

t.test('bin/sockrouter runs the sources through tsx once a source is newer than the bundle', async (t) => {
  const pkg = fakePackage(t)
  age(pkg.bundle, 60)
  t.equal(await whichRuns(pkg.bin), 'source')
})

t.test('bin/sockrouter runs the sources when package.json changed after the build', async (t) => {
  const pkg = fakePackage(t)
  age(pkg.source, 120)
  age(pkg.bundle, 60)
  t.equal(await whichRuns(pkg.bin), 'source')
})
