// A monotonic clock in milliseconds for elfrun's own timing (slices, timers,
// CPU accounting). Like performance.now(), but the first use of Node's
// `performance` loads perf_hooks, ~4 ms of every start-up.

/** Milliseconds on the host's monotonic clock (an arbitrary origin). */
export function nowMs(): number {
  const t = process.hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}
