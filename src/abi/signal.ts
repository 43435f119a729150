// Signal numbers: the same on x86_64 and arm64 (both use Linux's generic numbering).
export const SIG = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
} as const;

export const NSIG = 64;

/** The mask bit of a signal. */
export const bit = (sig: number): bigint => 1n << BigInt(sig - 1);

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(SIG).map(([k, v]) => [v, k]));

export function signalName(n: number): string {
  if (NAMES[n]) return NAMES[n];
  if (n >= 34 && n <= 64) return n === 34 ? 'SIGRTMIN' : `SIGRT_${n - 32}`;
  return `${n}`;
}
