/** Entry point of `npm run fuzz` (issue #10): the fuzzer, or with --faults the fault scenarios. */
import { parseFuzzOptions, USAGE, UsageError } from './options.js'
import { runFuzz } from './run-fuzz.js'

try {
  const options = parseFuzzOptions(process.argv.slice(2))
  const code = options.mode === 'faults' ? await (await import('./run-faults.js')).runFaults(options) : await runFuzz(options)
  process.exit(code)
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message === '' ? '' : `fuzz: ${err.message}\n`}${USAGE}\n`)
    process.exit(err.message === '' ? 0 : 2)
  }
  throw err
}
