import { runInNewContext } from 'node:vm'
import { build } from 'esbuild'
import t from 'tap'
import { dropPerCallNames } from '../../build/drop-per-call-names.mjs'

/**
 * The build pass of issue #14 (build/drop-per-call-names.mjs): a bundle made
 * the way build/bundle.mjs makes the single binary's (keepNames, minified
 * identifiers) keeps the names its modules give at load, classes and
 * module-level functions, and no longer names, per call, the closures a
 * function makes.
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
  'virtual:cjs': 'class CjsProblem extends Error {}\nfunction cjsNamed () { const inner = () => 1; return inner }\nmodule.exports = { CjsProblem, cjsNamed }\n',
  'virtual:lazy-esm': 'export class LazyProblem extends Error {}\nexport const lazyArrow = () => 4\n'
}

const virtualModules = {
  name: 'virtual',
  setup (b: { onResolve: Function, onLoad: Function }): void {
    b.onResolve({ filter: /^virtual:/ }, (args: { path: string }) => ({ path: args.path, namespace: 'virtual' }))
    b.onLoad({ filter: /.*/, namespace: 'virtual' }, (args: { path: string }) => ({ contents: VIRTUAL[args.path], loader: 'js' }))
  }
}

async function bundleOf (minifyIdentifiers: boolean): Promise<string> {
  const result = await build({
    stdin: { contents: SOURCE, loader: 'js', resolveDir: process.cwd() },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers,
    keepNames: true,
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
})
