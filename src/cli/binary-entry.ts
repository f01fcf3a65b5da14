import { main } from './main.js'

// The single binary's entry (issue #11), what bin/sockrouter is for the
// package: argv in, exit code out, one line on stderr for a failure.
main(process.argv.slice(2), process.env).then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`sockrouter: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
