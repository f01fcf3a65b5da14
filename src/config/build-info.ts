import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * What a build bakes in (issue #11). esbuild's `define` replaces this name in
 * dist/sockrouter.cjs and in the single binary; from source it is undefined
 * and the answers come from the files next to src/.
 */
interface BakedBuild {
  readonly version: string
  /** From the bundle's own URL to the package root: dist/ sits one level down, src/cli/ two. */
  readonly rootFromHere: string
  /** Set only in the single binary, which has no services.d beside it. */
  readonly demoServicesYaml: string | null
}
declare const SOCKROUTER_BUILD: BakedBuild | undefined

const baked: BakedBuild | null = typeof SOCKROUTER_BUILD === 'undefined' ? null : SOCKROUTER_BUILD

function packageFile (name: string): string {
  return fileURLToPath(new URL(`${baked?.rootFromHere ?? '../../'}${name}`, import.meta.url))
}

/** The package version: baked in by a build, else read once from package.json next to src/. */
export function readVersion (): string {
  if (baked !== null) return baked.version
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }
  return pkg.version
}

/** `--version`: the single binary also names the Node it carries, since no other Node is involved. */
export function versionLine (): string {
  return baked?.demoServicesYaml != null ? `${readVersion()} (node ${process.version})` : readVersion()
}

/**
 * The services.d that `sockrouter demo` uses by default: the package's own.
 * The single binary has no package beside it, so it writes its baked-in copy
 * of services.d/demo.yaml to a fresh temp dir.
 */
export function demoServicesDir (): string {
  const yaml = baked?.demoServicesYaml ?? null
  if (yaml === null) return packageFile('services.d')
  const dir = mkdtempSync(join(tmpdir(), 'sockrouter-demo-'))
  writeFileSync(join(dir, 'demo.yaml'), yaml)
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return dir
}
