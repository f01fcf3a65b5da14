// esbuild's keepNames wraps every named function in `__name(fn, "fn")`, an
// Object.defineProperty on the function. For a module's own functions and
// classes that runs once, at load. For a closure made inside a function
// (`const onData = (chunk) => {...}` in the tunnel code, undici's and
// reply-from's per-request callbacks) it runs on every call, and the
// redefined `name` gives each such closure a property dictionary of its
// own: CPU on every proxied request and heap on every open tunnel (issue #14,
// figures in docs/hot-path.md). This pass keeps the names given at module
// load and drops the per-call ones, so class and plugin names (the error
// types in logs, Fastify's plugin names) stay as they are, in the minified
// single binary too.
import { parse } from 'acorn'

/** The name esbuild gave its `__name` helper: `var X=(a,b)=>D(a,"name",{value:b,configurable:!0})` at top level. */
function findNameHelper (program) {
  for (const statement of program.body) {
    if (statement.type !== 'VariableDeclaration') continue
    for (const { id, init } of statement.declarations) {
      if (init?.type !== 'ArrowFunctionExpression' || init.params.length !== 2 || id.type !== 'Identifier') continue
      const body = init.body
      if (body.type === 'CallExpression' && body.arguments.length === 3 && body.arguments[1].value === 'name') return id.name
    }
  }
  return null
}

/**
 * esbuild's module wrappers, `__esm` and `__commonJS`: top-level helpers
 * that return the function which runs a module's body once, when it first
 * loads, e.g. `var __esm=(fn,res)=>function(){...}`, minified
 * `var z=(r,e,n)=>()=>{...}`.
 */
function findModuleWrappers (program) {
  const wrappers = new Set()
  for (const statement of program.body) {
    if (statement.type !== 'VariableDeclaration') continue
    for (const { id, init } of statement.declarations) {
      if (init?.type === 'ArrowFunctionExpression' && id.type === 'Identifier' && FUNCTIONS.has(init.body.type)) wrappers.add(id.name)
    }
  }
  return wrappers
}

/**
 * A module's body: the function handed to a wrapper, as
 * `__commonJS({"node_modules/y.js"(exports, module){...}})` or, minified,
 * `A((e,t)=>{...})`.
 */
function isModuleBody (fn, parents, wrappers) {
  const isWrapperCall = (node, arg) => node?.type === 'CallExpression' && node.callee.type === 'Identifier' &&
    wrappers.has(node.callee.name) && node.arguments.length === 1 && node.arguments[0] === arg
  const [parent, object, call] = parents.slice(-3).reverse()
  if (isWrapperCall(parent, fn)) return true
  return parent?.type === 'Property' && parent.value === fn && object?.type === 'ObjectExpression' &&
    object.properties.length === 1 && isWrapperCall(call, object)
}

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression'])

/** `code` with every `__name(fn, "fn")` that runs per call reduced to `(fn)`; the rest as it was. */
export function dropPerCallNames (code) {
  const program = parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true })
  const helper = findNameHelper(program)
  const wrappers = findModuleWrappers(program)
  if (helper === null) throw new Error('drop-per-call-names: esbuild\'s __name helper was not found in the bundle')
  // Cuts, as [start, end, replacement]: a call's head and its tail, which never overlap another call's, nested or not.
  const cuts = []
  const parents = []
  const visit = (node, perCall) => {
    if (perCall && node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === helper &&
        node.arguments.length === 2 && node.arguments[1].type === 'Literal' && node.arguments[0].type !== 'ThisExpression') {
      const fn = node.arguments[0]
      cuts.push([node.start, fn.start, '('], [fn.end, node.end, ')'])
    }
    const inner = FUNCTIONS.has(node.type) ? !isModuleBody(node, parents, wrappers) : perCall
    parents.push(node)
    for (const key in node) {
      const value = node[key]
      if (Array.isArray(value)) {
        for (const child of value) if (typeof child?.type === 'string') visit(child, inner)
      } else if (typeof value?.type === 'string' && key !== 'loc') visit(value, inner)
    }
    parents.pop()
  }
  visit(program, false)
  cuts.sort((a, b) => a[0] - b[0])
  const pieces = []
  let at = 0
  for (const [start, end, text] of cuts) {
    pieces.push(code.slice(at, start), text)
    at = end
  }
  pieces.push(code.slice(at))
  return { code: pieces.join(''), dropped: cuts.length / 2 }
}
