/** Types for test/unit/drop-per-call-names.test.ts; the pass itself is build/drop-per-call-names.mjs. */
export function dropPerCallNames (code: string): { code: string, dropped: number }
