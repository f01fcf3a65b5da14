import t from 'tap'
import { runCli } from './helpers/run-cli.js'

/**
 * Command-line mistakes get one line that names the flag and points to
 * `--help`, and exit 2 (issue #10, defect 11), instead of parseArgs' paragraph
 * about positional arguments.
 */

const HELP = "; see 'sockrouter --help'\n"

t.test('each bad flag is one line that names it and points to --help', async (t) => {
  const cases: Array<[readonly string[], string]> = [
    [['--bogus'], 'unknown option --bogus'],
    [['--bogus=1'], 'unknown option --bogus'],
    [['-x'], 'unknown option -x'],
    [['check', '--socket-dri', '/tmp'], 'unknown option --socket-dri'],
    [['--listen'], '--listen needs a value (--listen ADDR)'],
    [['--socket-dir', '--listen', '127.0.0.1:0'], '--socket-dir needs a value (--socket-dir DIR)'],
    [['--help=yes'], '--help takes no value']
  ]
  for (const [args, message] of cases) {
    const res = await runCli(args)
    t.equal(res.code, 2, args.join(' '))
    t.equal(res.stderr, `sockrouter: ${message}${HELP}`, args.join(' '))
    t.equal(res.stdout, '')
  }
})

t.test('bad values and commands are one line too', async (t) => {
  const res = await runCli(['frobnicate'])
  t.equal(res.code, 2)
  t.equal(res.stderr, `sockrouter: unknown command "frobnicate" (expected run, demo, check, routes or top)${HELP}`)
  const timeout = await runCli(['--upstream-timeout', 'soon'])
  t.equal(timeout.code, 2)
  t.equal(timeout.stderr.split('\n').length, 2, 'one line and its newline')
  t.match(timeout.stderr, /^sockrouter: --upstream-timeout: .*; see 'sockrouter --help'\n$/)
})
