/**
 * tap records coverage in child processes too (NODE_V8_COVERAGE) and merges
 * every process's ranges per source file. A child that compiles the sources
 * itself, with tsx (`--import tsx`, bin/sockrouter from source), runs other
 * JavaScript for the same file than tap's in-process ts-node, and merging
 * the two corrupts the report: whole directories drop out of it, depending
 * on which process's file the report happens to read last. So such children
 * opt out; in-process tests cover the same code.
 * test/check-coverage-variants.mjs fails the suite when one does not.
 */
export function withoutChildCoverage (env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
}
