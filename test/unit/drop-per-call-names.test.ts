import { runInNewContext } from 'node:vm'
import { build } from 'esbuild'
import t from 'tap'
import { dropPerCallNames } from '../../build/drop-per-call-names.mjs'
import { OUTPUT_OPTIONS } from '../../build/output-options.mjs'

/**
 * The build pass of issue #14 (build/drop-per-call-names.mjs), on bundles
 * made with build/bundle.mjs's output options, minified as the single
 * binary's is or not: the names its modules give at load (classes,
 * module-level functions, functions esbuild renamed) stay, and the closures
 * a function makes are no longer named per call, an Object.defineProperty
 * each that ran for every closure made per request (docs/hot-path.md).
 */
const SOURCE = `
export { CjsProblem, cjsNamed } from 'virtual:cjs'
export const lazy = () => require('virtual:lazy-esm')
export class GatewayProblem extends Error {}
export function namedAtLoad () { return 1 }
export const arrowAtLoad = () => 2
export function makeListener () {
  const onData = (chunk) => chunk
  function onEnd () { return 3 }
  class PerCall {}
  return { onData, onEnd, PerCall }
}
`

/** Modules esbuild wraps as they load: a CommonJS one (__commonJS) and an ES module required lazily (__esm). */
const VIRTUAL: Record<string, string> = {
  'virtual:entry': SOURCE,
  'virtual:cjs': 'class CjsProblem extends Error {}\nfunction cjsNamed () { const inner = () => 1; return inner }\nmodule.exports = { CjsProblem, cjsNamed }\n',
  'virtual:lazy-esm': 'export class LazyProblem extends Error {}\nexport const lazyArrow = () => 4\n',
  // Two modules with a function of the same name: esbuild renames one (`run2`), and keepNames must give it back its name.
  'virtual:renamed': [
    'import { run as runA } from "virtual:run-a"',
    'import { run as runB } from "virtual:run-b"',
    'export function makeClosure () { function perRequest () { return 1 } return perRequest }',
    'export const names = () => [runA.name, runB.name]'
  ].join('\n'),
  'virtual:run-a': 'export function run () { return "a" }',
  'virtual:run-b': 'export function run () { return "b" }'
}

const virtualModules = {
  name: 'virtual',
  setup (b: { onResolve: Function, onLoad: Function }): void {
    b.onResolve({ filter: /^virtual:/ }, (args: { path: string }) => ({ path: args.path, namespace: 'virtual' }))
    b.onLoad({ filter: /.*/, namespace: 'virtual' }, (args: { path: string }) => ({ contents: VIRTUAL[args.path], loader: 'js' }))
  }
}

async function bundleOf (minifyIdentifiers: boolean, entry = 'virtual:entry'): Promise<string> {
  const result = await build({
    ...OUTPUT_OPTIONS,
    entryPoints: [entry],
    minifyIdentifiers,
    write: false,
    logLevel: 'silent',
    plugins: [virtualModules]
  })
  return result.outputFiles[0]?.text ?? ''
}

interface Exports {
  CjsProblem: new () => Error
  cjsNamed: () => () => number
  lazy: () => { LazyProblem: new () => Error, lazyArrow: () => number }
  GatewayProblem: new () => Error
  namedAtLoad: () => number
  arrowAtLoad: () => number
  makeListener: () => { onData: (c: unknown) => unknown, onEnd: () => number, PerCall: new () => object }
}

function load (code: string): Exports {
  const module = { exports: {} as Exports }
  runInNewContext(code, { module, exports: module.exports, require: () => ({}) })
  return module.exports
}

interface Renamed { readonly exports: { makeClosure: () => () => number, names: () => string[] }, readonly nameDefines: () => number }

/** Runs a CommonJS bundle in a fresh context whose Object.defineProperty counts the `name`s it sets. */
function loadCounting (code: string): Renamed {
  let defines = 0
  const context = { module: { exports: {} }, Object: undefined as unknown }
  context.Object = new Proxy(Object, {
    get (target, key) {
      if (key !== 'defineProperty') return Reflect.get(target, key)
      return (o: object, p: PropertyKey, d: PropertyDescriptor) => {
        if (p === 'name') defines++
        return Object.defineProperty(o, p, d)
      }
    }
  })
  runInNewContext(code, context)
  return { exports: context.module.exports as Renamed['exports'], nameDefines: () => defines }
}

t.test('the minified bundle keeps the names given at module load and drops the ones a call gives its closures', async (t) => {
  const original = await bundleOf(true)
  const { code, dropped } = dropPerCallNames(original)
  t.equal(dropped, 3, 'dropped: the names of onData, onEnd and inner, made per call')
  const before = load(original)
  const after = load(code)
  t.equal(after.GatewayProblem.name, 'GatewayProblem', 'a class keeps its name')
  t.equal(new after.GatewayProblem().constructor.name, 'GatewayProblem', 'as an error logger reads it')
  t.equal(after.namedAtLoad.name, 'namedAtLoad', 'a module function keeps its name')
  t.equal(after.CjsProblem.name, 'CjsProblem', 'a class of a CommonJS module keeps its name')
  t.equal(after.cjsNamed.name, 'cjsNamed', 'and its functions')
  t.not(after.cjsNamed().name, 'inner', 'but not the closures they make per call')
  t.equal(after.lazy().LazyProblem.name, 'LazyProblem', 'a class of an ES module that loads on first use keeps its name')
  t.equal(after.lazy().lazyArrow.name, 'lazyArrow', 'and its arrows')
  t.equal(after.arrowAtLoad.name, 'arrowAtLoad', 'a module arrow keeps its name')
  t.equal(before.makeListener().onData.name, 'onData', 'before the pass, every call named its closure')
  t.not(after.makeListener().onData.name, 'onData', 'after it, a call leaves its arrow with the minified name')
  t.not(after.makeListener().onEnd.name, 'onEnd', 'and its nested function')
  t.equal(after.makeListener().PerCall.name, 'PerCall', 'a class made per call still names itself (static block)')
  t.equal(after.makeListener().onData(5), 5, 'the code still runs')
  t.equal(after.makeListener().onEnd(), 3)
})

t.test('an unminified bundle keeps every name: its identifiers are the sources\' own', async (t) => {
  const { code, dropped } = dropPerCallNames(await bundleOf(false))
  t.equal(dropped, 3, 'dropped: the same three; the wrapped modules\' own names stay')
  const after = load(code)
  t.equal(after.makeListener().onData.name, 'onData')
  t.equal(after.GatewayProblem.name, 'GatewayProblem')
})

t.test('a bundle without esbuild\'s __name helper is refused, not passed through unchanged', async (t) => {
  t.throws(() => dropPerCallNames('var x = 1;\n'), /__name helper was not found/)
  t.throws(() => dropPerCallNames('var __name=(t,v)=>t;'), /__name helper was not found/, 'nor one whose helper does not set names')
})

t.test('the bundle creates a per-request closure without redefining its name', async (t) => {
  const code = await bundleOf(false, 'virtual:renamed')
  t.match(code, /run2/, 'esbuild renamed one of the two functions')
  const { exports, nameDefines } = loadCounting(dropPerCallNames(code).code)
  const before = nameDefines()
  const closures = Array.from({ length: 100 }, () => exports.makeClosure())
  t.ok(closures.every((f) => f.name === 'perRequest'), 'each closure has its name')
  t.equal(nameDefines() - before, 0, 'no defineProperty for a closure already so named')
})

t.test('a function esbuild renamed keeps its own name in the bundle', async (t) => {
  const { exports } = loadCounting(dropPerCallNames(await bundleOf(false, 'virtual:renamed')).code)
  t.same(exports.names(), ['run', 'run'])
})
