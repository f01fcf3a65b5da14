/** ANSI SGR sequences (ECMA-48 §8.3.117), shared by the pretty log lines and `sockrouter top`. */
export const RESET = '\u001b[0m'
export const BOLD = '\u001b[1m'
export const DIM = '\u001b[2m'
export const INVERSE = '\u001b[7m'
export const RED = '\u001b[31m'
export const GREEN = '\u001b[32m'
export const YELLOW = '\u001b[33m'
export const CYAN = '\u001b[36m'
