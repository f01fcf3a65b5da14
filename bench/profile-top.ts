/**
 * Top self-time functions of a V8 .cpuprofile, and self time per package, e.g.
 * from `npm run bench -- --only http-small --targets sockrouter --cpu-prof-dir /tmp/prof`:
 *
 *   node --import tsx bench/profile-top.ts /tmp/prof/sockrouter.cpuprofile [N]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string, readonly url: string, readonly lineNumber: number }
}

interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

function packageOf (url: string): string {
  if (url === '') return '(native / V8)'
  if (url.startsWith('node:')) return 'node core'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : rest[0] ?? url
  }
  const src = url.indexOf('/src/')
  return src !== -1 ? `sockrouter ${url.slice(src + 1).split('/').slice(0, 2).join('/')}` : url
}

function shortUrl (url: string): string {
  const nm = url.lastIndexOf('/node_modules/')
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length)
  const src = url.indexOf('/src/')
  return src !== -1 ? url.slice(src + 1) : url.replace(/^file:\/\//, '')
}

function top (totals: Map<string, number>, n: number, busy: number): string[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => `${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`)
}

const [file, count] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: node --import tsx bench/profile-top.ts FILE.cpuprofile [N]\n')
  process.exit(2)
}
const n = Number(count ?? 10)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const byFunction = new Map<string, number>()
const byPackage = new Map<string, number>()
let all = 0
let idle = 0
profile.samples.forEach((id, i) => {
  const node = byId.get(id)
  const us = profile.timeDeltas[i] ?? 0
  if (node === undefined) return
  const { functionName, url, lineNumber } = node.callFrame
  all += us
  if (functionName === '(idle)') { idle += us; return }
  const name = `${functionName === '' ? '(anonymous)' : functionName}  ${shortUrl(url)}${url === '' ? '' : `:${lineNumber + 1}`}`
  byFunction.set(name, (byFunction.get(name) ?? 0) + us)
  const pkg = ['(garbage collector)', '(program)'].includes(functionName) ? functionName : packageOf(url)
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us)
})
const busy = all - idle
process.stdout.write([
  `${file}: ${(all / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (idle samples left out below)`,
  '',
  `Top ${n} functions by self time (% of busy time):`,
  ...top(byFunction, n, busy),
  '',
  'Self time by package (% of busy time):',
  ...top(byPackage, 15, busy),
  ''
].join('\n'))
