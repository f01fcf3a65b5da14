// Made by build/snapshot-plugin.mjs for the single binary's snapshot build (issue #11, start-up).
declare module 'sockrouter-snapshot:fastify-compilers' {
  const modules: readonly unknown[]
  export default modules
}
