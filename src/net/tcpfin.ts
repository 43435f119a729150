// The state a TCP connection on elfrun's lo (--net none) is in, from which of
// its ends have sent their FIN and in which order (every segment on lo is
// acknowledged at once): see tcpstate.ts, which lists them, and loop.ts,
// where a lingering connection holds its port against bind().

/** tcp_states.h */
export const TCP = { ESTABLISHED: 1, FIN_WAIT2: 5, TIME_WAIT: 6, CLOSE: 7, CLOSE_WAIT: 8, LISTEN: 10 } as const;
/** tcp_fin_timeout and TCP_TIMEWAIT_LEN */
const LINGER_MS = 60_000;

/** What an end of a connection knows of its close. */
export interface FinEnd {
  /** the order its FIN was sent in (0: not yet) and when */
  fin: number;
  finMs: number;
  /** its close reset the connection */
  reset: boolean;
}

/**
 * The state of an end (`mine`) whose peer is `theirs`, `closed` once its
 * socket was closed: null for CLOSE (no table lists it), else the state and,
 * for a closed end (orphan FIN_WAIT2, TIME_WAIT), the ms its timer has left.
 */
export function finState(mine: FinEnd, theirs: FinEnd, closed: boolean, now: number): { state: number; expires: number | null } | null {
  if (mine.reset || theirs.reset) return null;
  if (mine.fin === 0 && theirs.fin === 0) return { state: TCP.ESTABLISHED, expires: null };
  if (mine.fin !== 0 && theirs.fin === 0) {
    const left = closed ? mine.finMs + LINGER_MS - now : null;
    return left !== null && left <= 0 ? null : { state: TCP.FIN_WAIT2, expires: left };
  }
  if (mine.fin === 0) return { state: TCP.CLOSE_WAIT, expires: null };
  // the second to send its FIN is closed once it is acknowledged; the first waits in TIME_WAIT
  if (mine.fin > theirs.fin) return null;
  const left = Math.max(mine.finMs, theirs.finMs) + LINGER_MS - now;
  return left <= 0 ? null : { state: TCP.TIME_WAIT, expires: left };
}
