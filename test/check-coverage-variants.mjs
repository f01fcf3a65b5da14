// Run by tap after every test file (package.json, tap.after). tap merges the
// V8 coverage of every process per source file, assuming each ran the same
// JavaScript for it. A child that compiles a source file with tsx runs other
// code for it than tap's in-process ts-node, and the merged report then
// loses files at random (whole directories, depending on which process's
// file it reads last). This fails the run when that happened, naming the
// process, so the child can be given withoutChildCoverage()
// (test/helpers/child-coverage.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const coverageDir = join(root, '.tap', 'coverage')
const rootUrl = pathToFileURL(root).href

/** The length of the script V8 ran: the end of its widest range. */
function scriptLength (script) {
  let end = 0
  for (const fn of script.functions) for (const range of fn.ranges) if (range.endOffset > end) end = range.endOffset
  return end
}

/** What started the process that wrote a coverage file, from tap's processinfo. */
function commandOf (file) {
  try {
    const info = JSON.parse(readFileSync(join(root, '.tap', 'processinfo', file), 'utf8'))
    // tap's own loaders are on every test file's command line; leave them out.
    const own = (a) => a.includes('/@tapjs/') || a === '--enable-source-maps'
    return [...info.execArgv.filter((a) => !own(a)), ...info.argv.slice(1)].map((a) => a.startsWith(root) ? relative(root, a) : a).join(' ')
  } catch {
    return '(no processinfo)'
  }
}

/** url → script length → coverage files. */
const variants = new Map()
for (const file of existsSync(coverageDir) ? readdirSync(coverageDir) : []) {
  let coverage
  try {
    coverage = JSON.parse(readFileSync(join(coverageDir, file), 'utf8'))
  } catch {
    continue
  }
  for (const script of coverage.result ?? []) {
    const url = script.url
    if (!url.startsWith(rootUrl) || url.includes('/node_modules/') || url.startsWith(`${rootUrl}test/`)) continue
    const byLength = variants.get(url) ?? new Map()
    const length = scriptLength(script)
    byLength.set(length, [...(byLength.get(length) ?? []), file])
    variants.set(url, byLength)
  }
}

const mixed = [...variants].filter(([, byLength]) => byLength.size > 1)
if (mixed.length > 0) {
  const lines = [`coverage of ${mixed.length} source file(s) came from differently compiled code, which corrupts tap's merged report:`]
  for (const [url, byLength] of mixed.slice(0, 5)) {
    lines.push(`  ${url.slice(rootUrl.length)}:`)
    for (const [length, files] of byLength) lines.push(`    ${length} bytes in ${files.length} process(es), e.g. ${commandOf(files[0])}`)
  }
  lines.push('A test child that compiles the sources itself (--import tsx) needs env: withoutChildCoverage() from test/helpers/child-coverage.ts.')
  process.stderr.write(`${lines.join('\n')}\n`)
  process.exitCode = 1
}
