// What a syscall interrupted by a signal becomes: the kernel-internal codes of
// include/linux/errno.h (never seen by a program; strace prints them), and
// the rule each follows at signal delivery (arch/*/kernel/signal.c).
import { E } from './errno.js';

export const ERESTARTSYS = 512;
export const ERESTARTNOINTR = 513;
export const ERESTARTNOHAND = 514;
export const ERESTART_RESTARTBLOCK = 516;

/**
 * How an interrupted wait ends, as Linux's codes decide:
 * - 'sys' (ERESTARTSYS): restarted after a handler with SA_RESTART, EINTR
 *   after one without; reads, writes, wait4, futex waits without a timeout;
 * - 'nohand' (ERESTARTNOHAND): EINTR after any handler; pause, sigsuspend,
 *   select, pselect6, ppoll, poll without a timeout, absolute sleeps;
 * - 'block' (ERESTART_RESTARTBLOCK): EINTR after any handler, and resumed
 *   through restart_syscall with the time left otherwise; relative sleeps,
 *   poll and futex waits with a timeout;
 * - 'noint' (ERESTARTNOINTR): always restarted;
 * - 'intr': EINTR even when no handler runs (a stop and continue ends it);
 *   epoll_wait, rt_sigtimedwait, and the other calls signal(7) lists.
 * With no handler (a stop, then SIGCONT) every kind but 'intr' goes on
 * waiting as if nothing happened.
 */
export type Restart = 'sys' | 'nohand' | 'block' | 'noint' | 'intr';

/** The code strace shows for an interrupted call of each kind (EINTR itself for 'intr'). */
export function restartCode(r: Restart): number {
  switch (r) {
    case 'sys':
      return ERESTARTSYS;
    case 'nohand':
      return ERESTARTNOHAND;
    case 'block':
      return ERESTART_RESTARTBLOCK;
    case 'noint':
      return ERESTARTNOINTR;
    case 'intr':
      return E.EINTR;
  }
}

/** Is r one of the codes no program may ever see? */
export function isRestartCode(r: number): boolean {
  return r <= -ERESTARTSYS && r >= -ERESTART_RESTARTBLOCK;
}
