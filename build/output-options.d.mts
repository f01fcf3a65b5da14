/** Types for the tests; the options themselves are build/output-options.mjs. */
export const OUTPUT_OPTIONS: Readonly<{
  bundle: true
  platform: 'node'
  format: 'cjs'
  target: string
  minifyWhitespace: true
  minifySyntax: true
  keepNames: true
}>
