'use strict'
// issue #11: bin/sockrouter runs dist/sockrouter.cjs only while it is newer
// than everything it was built from; an edited source, a version bump or a
// changed lockfile makes it stale, and the TypeScript runs through tsx again.
const { readdirSync, statSync } = require('node:fs')
const { join } = require('node:path')

const ROOT = join(__dirname, '..')
const BUNDLE = join(ROOT, 'dist', 'sockrouter.cjs')

function mtimeMs (path) {
  try {
    return statSync(path).mtimeMs
  } catch {
    return -1
  }
}

function newestSourceMs (root) {
  let newest = Math.max(mtimeMs(join(root, 'package.json')), mtimeMs(join(root, 'package-lock.json')))
  for (const name of readdirSync(join(root, 'src'), { recursive: true })) {
    newest = Math.max(newest, mtimeMs(join(root, 'src', name)))
  }
  return newest
}

/** The bundle's path when it exists and is newer than every source; null otherwise. */
function freshBundle (root = ROOT) {
  const bundle = join(root, 'dist', 'sockrouter.cjs')
  const built = mtimeMs(bundle)
  // Not older, rather than newer: npm pack gives every file the same mtime, and a packed bundle is fresh.
  return built > 0 && built >= newestSourceMs(root) ? bundle : null
}

module.exports = { BUNDLE, ROOT, freshBundle }
