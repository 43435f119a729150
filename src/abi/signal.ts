// Signals as Linux's UAPI headers define them: numbers, sigaction flags,
// sigprocmask and sigaltstack arguments, si_code values. x86_64 and arm64 both
// use the generic numbering; where they differ the name says which.
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

/** The first real-time signal (asm-generic/signal.h); glibc reserves 32 and 33, so its SIGRTMIN is 34. */
export const SIGRTMIN = 32;

// ---- sigaction (asm-generic/signal-defs.h; the same on x86_64 and arm64) ----
export const SIG_DFL = 0;
export const SIG_IGN = 1;

export const SA_NOCLDSTOP = 0x00000001;
export const SA_NOCLDWAIT = 0x00000002;
export const SA_SIGINFO = 0x00000004;
export const SA_UNSUPPORTED = 0x00000400;
export const SA_EXPOSE_TAGBITS = 0x00000800;
/** x86_64's and arm64's asm/signal.h (not every arch has it) */
export const SA_RESTORER = 0x04000000;
export const SA_ONSTACK = 0x08000000;
export const SA_RESTART = 0x10000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;

// ---- rt_sigprocmask's how ----
export const SIG_BLOCK = 0;
export const SIG_UNBLOCK = 1;
export const SIG_SETMASK = 2;

// ---- sigaltstack (linux/signal.h) ----
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
/** (1U << 31), as the int32 that `flags & SS_AUTODISARM` compares with */
export const SS_AUTODISARM = 1 << 31;
/** asm-generic's (and x86_64's) minimum alternate stack; arm64's asm/signal.h says 5120 */
export const MINSIGSTKSZ = 2048;
export const MINSIGSTKSZ_ARM64 = 5120;

// ---- si_code (asm-generic/siginfo.h) ----
/** who sent it: <= 0 from user space, > 0 from the kernel */
export const SI_USER = 0;
export const SI_KERNEL = 0x80;
export const SI_QUEUE = -1;
export const SI_TIMER = -2;
export const SI_MESGQ = -3;
export const SI_ASYNCIO = -4;
export const SI_SIGIO = -5;
export const SI_TKILL = -6;
export const SI_DETHREAD = -7;
export const SI_ASYNCNL = -60;

/** SIGILL */
export const ILL_ILLOPC = 1;
export const ILL_ILLOPN = 2;
export const ILL_ILLADR = 3;
export const ILL_ILLTRP = 4;
export const ILL_PRVOPC = 5;
export const ILL_PRVREG = 6;
export const ILL_COPROC = 7;
export const ILL_BADSTK = 8;
export const ILL_BADIADDR = 9;

/** SIGFPE */
export const FPE_INTDIV = 1;
export const FPE_INTOVF = 2;
export const FPE_FLTDIV = 3;
export const FPE_FLTOVF = 4;
export const FPE_FLTUND = 5;
export const FPE_FLTRES = 6;
export const FPE_FLTINV = 7;
export const FPE_FLTSUB = 8;
export const FPE_FLTUNK = 14;
export const FPE_CONDTRAP = 15;

/** SIGSEGV */
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
export const SEGV_BNDERR = 3;
export const SEGV_PKUERR = 4;
export const SEGV_ACCADI = 5;
export const SEGV_ADIDERR = 6;
export const SEGV_ADIPERR = 7;
export const SEGV_MTEAERR = 8;
export const SEGV_MTESERR = 9;

/** SIGBUS */
export const BUS_ADRALN = 1;
export const BUS_ADRERR = 2;
export const BUS_OBJERR = 3;
export const BUS_MCEERR_AR = 4;
export const BUS_MCEERR_AO = 5;

/** SIGTRAP */
export const TRAP_BRKPT = 1;
export const TRAP_TRACE = 2;
export const TRAP_BRANCH = 3;
export const TRAP_HWBKPT = 4;
export const TRAP_UNK = 5;
export const TRAP_PERF = 6;

/** SIGCHLD */
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;
export const CLD_TRAPPED = 4;
export const CLD_STOPPED = 5;
export const CLD_CONTINUED = 6;
