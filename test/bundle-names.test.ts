import { runInNewContext } from 'node:vm'
import { build } from 'esbuild'
import t from 'tap'
import { dropPerCallNames } from '../build/drop-per-call-names.mjs'

/**
 * The bundle keeps esbuild's keepNames for what a module names as it loads,
 * but no longer names the closures a function makes: that
 * Object.defineProperty ran for every closure created per request (issue
 * #14, docs/hot-path.md, build/drop-per-call-names.mjs).
 */
const dropNames = (code: string): string => dropPerCallNames(code).code

// Two modules with a function of the same name: esbuild renames one (`run2`), and keepNames must give it back its name.
const SOURCES: Record<string, string> = {
  'a.js': 'export function run () { return "a" }',
  'b.js': 'export function run () { return "b" }',
  'entry.js': [
    'import { run as runA } from "./a.js"',
    'import { run as runB } from "./b.js"',
    'export function makeClosure () { function perRequest () { return 1 } return perRequest }',
    'export const names = () => [runA.name, runB.name]'
  ].join('\n')
}

async function bundled (): Promise<string> {
  const result = await build({
    entryPoints: ['entry.js'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20.19',
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    write: false,
    logLevel: 'silent',
    plugins: [{
      name: 'in-memory',
      setup (b) {
        b.onResolve({ filter: /.*/ }, (args) => ({ path: args.path.replace(/^\.\//, ''), namespace: 'mem' }))
        b.onLoad({ filter: /.*/, namespace: 'mem' }, (args) => ({ contents: SOURCES[args.path], loader: 'js' }))
      }
    }]
  })
  return result.outputFiles[0]?.text ?? ''
}

interface Loaded { readonly exports: { makeClosure: () => () => number, names: () => string[] }, readonly nameDefines: () => number }

/** Runs a CommonJS bundle in a fresh context whose Object.defineProperty counts the `name`s it sets. */
function load (code: string): Loaded {
  let defines = 0
  const context = { module: { exports: {} }, Object: undefined as unknown }
  const counting = new Proxy(Object, {
    get (target, key) {
      if (key !== 'defineProperty') return Reflect.get(target, key)
      return (o: object, p: PropertyKey, d: PropertyDescriptor) => {
        if (p === 'name') defines++
        return Object.defineProperty(o, p, d)
      }
    }
  })
  context.Object = counting
  runInNewContext(code, context)
  return { exports: context.module.exports as Loaded['exports'], nameDefines: () => defines }
}

t.test('the bundle creates a per-request closure without redefining its name', async (t) => {
  const code = await bundled()
  t.match(code, /run2/, 'esbuild renamed one of the two functions')
  const { exports, nameDefines } = load(dropNames(code))
  const before = nameDefines()
  const closures = Array.from({ length: 100 }, () => exports.makeClosure())
  t.ok(closures.every((f) => f.name === 'perRequest'), 'each closure has its name')
  t.equal(nameDefines() - before, 0, 'no defineProperty for a closure already so named')
})

t.test('a function esbuild renamed keeps its own name in the bundle', async (t) => {
  const { exports } = load(dropNames(await bundled()))
  t.same(exports.names(), ['run', 'run'])
})

t.test('the build fails when esbuild\'s __name helper is not the one it looks for', async (t) => {
  t.throws(() => dropNames('var __name=(t,v)=>t;'), /__name helper was not found/)
})
