import t from 'tap'
import { covers } from '../bench/coverage.js'
import type { Child } from '../bench/children.js'
import { inspectorUrls } from '../bench/inspector-gc.js'
import { parseBenchOptions, SOAK_TUNNELS, USAGE } from '../bench/options.js'
import { nodeMajor, parseBinaryNodeVersion } from '../bench/router-ways.js'
import { parseHookCost } from '../bench/scenarios/metrics-cost.js'
import { SCENARIOS, SCENARIO_GROUPS } from '../bench/scenarios/index.js'
import { fdLimit, planSoak } from '../bench/scenarios/tunnel-soak.js'
import type { Scenario } from '../bench/scenarios/types.js'
import { coreTargets, targetLabel, TARGET_IDS, type TargetId } from '../bench/targets.js'

/**
 * Issue #14's wider bench: which targets exist and are labelled with their
 * Node, which scenario runs on which target, where the 10,000-tunnel soak
 * runs, and the small parsers the harness reads its children's output with.
 */

const scenario = (id: string): Scenario => {
  const s = SCENARIOS.find((x) => x.id === id)
  if (s === undefined) throw new Error(`no scenario ${id}`)
  return s
}
const ALL: readonly TargetId[] = TARGET_IDS
const runsOn = (id: string, present: readonly TargetId[], quick: boolean, tls: TargetId[] = []): TargetId[] =>
  present.filter((tid) => covers(scenario(id), { id: tid, tls: tls.includes(tid) }, coreTargets(present), quick))

t.test('every label names the Node its target runs on: the machine\'s, or the binary\'s', async (t) => {
  const nodes = { machine: 'v20.20.2', binary: 'v26.12.1' }
  t.equal(targetLabel('sockrouter-binary', nodes), 'sockrouter binary (Node 26)')
  t.equal(targetLabel('sockrouter-w2', nodes), 'sockrouter binary, 2 workers (Node 26)')
  t.equal(targetLabel('sockrouter-bundle', nodes), 'sockrouter bundle (Node 20)')
  t.equal(targetLabel('sockrouter-source', nodes), 'sockrouter source (Node 20)')
  t.equal(targetLabel('http-proxy-binary-node', nodes), 'http-proxy (Node 26)')
  t.equal(targetLabel('fastify-http-proxy', nodes), '@fastify/http-proxy (Node 20)')
  t.equal(targetLabel('nginx', nodes), 'nginx')
  t.equal(new Set(ALL.map((id) => targetLabel(id, nodes))).size, ALL.length, 'no two columns look alike')
})

t.test('the binary\'s Node comes from its --version line', async (t) => {
  t.equal(parseBinaryNodeVersion('0.1.0 (node v26.12.1)\n'), 'v26.12.1')
  t.equal(parseBinaryNodeVersion('0.1.0\n'), null)
  t.equal(nodeMajor('v26.12.1'), '26')
  t.equal(nodeMajor(null), '?')
})

t.test('the core set is the binary with the peers on its Node, or without a binary the bundle with the peers on the machine\'s', async (t) => {
  t.same([...coreTargets(ALL)].sort(), ['direct', 'fastify-http-proxy-binary-node', 'http-proxy-binary-node', 'nginx', 'sockrouter-binary'])
  const noBinary = ALL.filter((id) => id !== 'sockrouter-binary' && id !== 'sockrouter-w2' && !id.endsWith('-binary-node'))
  t.same([...coreTargets(noBinary)].sort(), ['direct', 'fastify-http-proxy', 'http-proxy', 'nginx', 'sockrouter-bundle'])
  t.same([...coreTargets(['direct', 'sockrouter-source'])].sort(), ['direct', 'sockrouter-source'])
  t.same([...coreTargets(['direct', 'nginx', 'http-proxy', 'http-proxy-binary-node'])].sort(), ['direct', 'http-proxy-binary-node', 'nginx'])
})

t.test('http-small runs on every target, the --workers 2 binary included; ws-echo on every target but that one', async (t) => {
  t.same(runsOn('http-small', ALL, false), ALL)
  t.same(runsOn('http-small', ALL, true), ALL)
  t.same(runsOn('ws-echo', ALL, true), ALL.filter((id) => id !== 'sockrouter-w2'))
})

t.test('start-up times every way and both Nodes\' peers in a full run, only the core set with --quick', async (t) => {
  t.same(runsOn('startup', ALL, false), ALL.filter((id) => id !== 'direct' && id !== 'sockrouter-w2'))
  t.same(runsOn('startup', ALL, true), ['sockrouter-binary', 'nginx', 'http-proxy-binary-node', 'fastify-http-proxy-binary-node'])
})

t.test('the other scenarios run on the core set; the TLS ones on its sockrouter and nginx where they have a TLS listener', async (t) => {
  for (const id of ['http-1c', 'ws-1mib', 'http-closing']) {
    t.same(runsOn(id, ALL, false), ['direct', 'sockrouter-binary', 'nginx', 'http-proxy-binary-node', 'fastify-http-proxy-binary-node'], id)
  }
  t.same(runsOn('idle-tunnels', ALL, false), ['sockrouter-binary', 'nginx', 'http-proxy-binary-node', 'fastify-http-proxy-binary-node'])
  t.same(runsOn('h2-small', ALL, false, ['sockrouter-binary', 'nginx']), ['sockrouter-binary', 'nginx'])
  t.same(runsOn('h2-small', ALL, false, ['nginx']), ['nginx'])
  t.same(runsOn('discovery', ALL, false), ['sockrouter-binary'])
  t.same(runsOn('metrics-cost', ALL, false), ['sockrouter-binary'])
})

t.test('10,000 tunnels do not fit one process at 20,000 fds, so the soak runs on --workers 2; 5,000 do', async (t) => {
  const big = planSoak(10_000, 20_000)
  t.equal(big.target, 'sockrouter-w2')
  t.match(big.why, /20000\+ fds/)
  t.match(big.why, /--max-connections there is 9500/)
  t.equal(planSoak(5_000, 20_000).target, 'sockrouter-binary')
  t.equal(planSoak(10_000, 65_536).target, 'sockrouter-binary')
  t.match(planSoak(30_000, 20_000).why, /even 15000 a worker does not fit/)
})

t.test('the soak runs on exactly one target: the one its plan picks for this machine\'s fd limit', async (t) => {
  const expected = planSoak(SOAK_TUNNELS, fdLimit()).target
  t.same(runsOn('tunnel-soak', ALL, false), [expected])
  t.same(runsOn('tunnel-soak', ALL, true), [expected])
})

t.test('the fd limit is the soft "Max open files" of /proc/self/limits', async (t) => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n'
  t.equal(fdLimit(limits), 20_000)
  t.equal(fdLimit('Max open files            unlimited            unlimited            files\n'), Number.POSITIVE_INFINITY)
  t.ok(fdLimit() > 0)
})

t.test('a full run soaks 10,000 tunnels and a quick one 1,000; --help lists the new targets and scenarios', async (t) => {
  t.equal(parseBenchOptions([]).soakTunnels, 10_000)
  t.equal(parseBenchOptions(['--quick']).soakTunnels, 1000)
  for (const word of ['sockrouter-binary', 'sockrouter-w2', 'sockrouter-bundle', 'sockrouter-source', 'http-proxy-binary-node', 'fastify-http-proxy-binary-node', 'tunnel-soak', 'metrics-cost']) {
    t.match(USAGE, word)
  }
  t.same(SCENARIO_GROUPS['startup-ways'], ['startup'])
})

t.test('--deadline replaces the run\'s hard stop; a full run\'s is 15 minutes', async (t) => {
  t.equal(parseBenchOptions([]).deadlineSeconds, 900)
  t.equal(parseBenchOptions(['--quick']).deadlineSeconds, 240)
  t.equal(parseBenchOptions(['--deadline', '30']).deadlineSeconds, 30)
  t.throws(() => parseBenchOptions(['--deadline', '0']), /more than 0/)
  t.match(USAGE, '--deadline S')
})

t.test('the metrics hook cost is read from the JSON line metrics-hook-cost.ts prints last', async (t) => {
  t.same(parseHookCost('noise\n{"withNs":500,"withoutNs":130,"hookNs":370,"requests":200000,"rounds":7,"node":"v26.12.1"}\n'), { hookNs: 370, withNs: 500, withoutNs: 130, node: 'v26.12.1' })
  t.throws(() => parseHookCost('per request: with the hook 536 ns'), /no JSON line/)
  t.throws(() => parseHookCost('{"hookNs":"x"}'), /no figures/)
})

t.test('every inspector URL on a cluster\'s shared stderr is found, the primary\'s and each worker\'s', async (t) => {
  const head = [
    'Debugger listening on ws://127.0.0.1:40001/aaa',
    'For help, see: https://nodejs.org/learn/getting-started/debugging',
    'Debugger listening on ws://127.0.0.1:40002/bbb',
    'Debugger listening on ws://127.0.0.1:40003/ccc'
  ].join('\n')
  const child = { stderrHead: () => head } as unknown as Child
  t.same(inspectorUrls(child), ['ws://127.0.0.1:40001/aaa', 'ws://127.0.0.1:40002/bbb', 'ws://127.0.0.1:40003/ccc'])
  t.same(inspectorUrls({ stderrHead: () => '' } as unknown as Child), [])
})
