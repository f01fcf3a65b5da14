// The shape of every bundle build/bundle.mjs makes (issue #11), shared with
// the tests of build/drop-per-call-names.mjs so they check the pass on output
// made the way the real bundles are (issue #14).
export const OUTPUT_OPTIONS = Object.freeze({
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20.19',
  minifyWhitespace: true,
  minifySyntax: true,
  // keepNames gives functions and classes their own names (fastify's plugin
  // names, error names); drop-per-call-names.mjs keeps that to names given at
  // module load.
  keepNames: true
})
