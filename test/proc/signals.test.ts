// Pending-signal state and the facts of each signal (src/proc/signals.ts),
// without Unicorn: queueing, taking and dropping, default actions against
// signal(7)'s table, and the unblockable and synchronous sets.
import { describe, expect, it } from 'vitest';
import { CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, NSIG, SIG, SIGRTMIN, SI_USER, bit } from '../../src/abi/signal.js';
import {
  RT_QUEUE_MAX,
  SYNCHRONOUS,
  UNBLOCKABLE,
  childSiginfo,
  defaultAction,
  dropSignals,
  queueSignal,
  takeSignal,
  userSiginfo,
  type DefaultAction,
  type SignalTarget,
} from '../../src/proc/signals.js';
import type { Process } from '../../src/proc/process.js';

const target = (): SignalTarget => ({ pending: 0n, siginfo: new Map() });
/** A siginfo whose si_errno field tells instances apart. */
const info = (sig: number, n: number): Buffer => {
  const b = Buffer.alloc(128);
  b.writeInt32LE(sig, 0);
  b.writeInt32LE(n, 4);
  return b;
};
const tag = (b: Buffer | undefined): number | undefined => b?.readInt32LE(4);

describe('queueing', () => {
  it('a standard signal sent twice is pending once, with the first siginfo', () => {
    const t = target();
    expect(queueSignal(t, SIG.SIGUSR1, info(SIG.SIGUSR1, 1))).toBe(true);
    expect(queueSignal(t, SIG.SIGUSR1, info(SIG.SIGUSR1, 2))).toBe(true);
    expect(t.pending).toBe(bit(SIG.SIGUSR1));
    expect(t.siginfo.get(SIG.SIGUSR1)!.length).toBe(1);
    expect(tag(takeSignal(t, SIG.SIGUSR1))).toBe(1);
    expect(t.pending).toBe(0n);
    expect(t.siginfo.has(SIG.SIGUSR1)).toBe(false);
  });

  it('real-time signals queue every instance with its siginfo, in order', () => {
    const t = target();
    const rt = SIGRTMIN + 2;
    for (let n = 1; n <= 3; n++) expect(queueSignal(t, rt, info(rt, n))).toBe(true);
    expect(t.pending).toBe(bit(rt));
    expect(tag(takeSignal(t, rt))).toBe(1);
    expect(t.pending).toBe(bit(rt)); // still pending while more are queued
    expect(tag(takeSignal(t, rt))).toBe(2);
    expect(tag(takeSignal(t, rt))).toBe(3);
    expect(t.pending).toBe(0n);
    expect(t.siginfo.has(rt)).toBe(false);
  });

  it('SIGRTMIN itself queues; the signal below it merges', () => {
    const t = target();
    queueSignal(t, SIGRTMIN, info(SIGRTMIN, 1));
    queueSignal(t, SIGRTMIN, info(SIGRTMIN, 2));
    queueSignal(t, SIGRTMIN - 1, info(SIGRTMIN - 1, 1));
    queueSignal(t, SIGRTMIN - 1, info(SIGRTMIN - 1, 2));
    expect(t.siginfo.get(SIGRTMIN)!.length).toBe(2);
    expect(t.siginfo.get(SIGRTMIN - 1)!.length).toBe(1);
  });

  it('a real-time queue holds up to its cap; past it the signal is dropped', () => {
    const t = target();
    const rt = NSIG;
    for (let n = 0; n < RT_QUEUE_MAX; n++) expect(queueSignal(t, rt, info(rt, n))).toBe(true);
    expect(queueSignal(t, rt, info(rt, -1))).toBe(false);
    const q = t.siginfo.get(rt)!;
    expect(q.length).toBe(RT_QUEUE_MAX);
    expect(tag(q[q.length - 1])).toBe(RT_QUEUE_MAX - 1);
  });

  it('taking a signal that is not pending gives nothing and changes nothing else', () => {
    const t = target();
    queueSignal(t, SIG.SIGINT, info(SIG.SIGINT, 1));
    expect(takeSignal(t, SIG.SIGTERM)).toBeUndefined();
    expect(t.pending).toBe(bit(SIG.SIGINT));
  });

  it('a pending bit without siginfo (a forced fault) is taken and cleared', () => {
    const t = target();
    t.pending |= bit(SIG.SIGSEGV);
    expect(takeSignal(t, SIG.SIGSEGV)).toBeUndefined();
    expect(t.pending).toBe(0n);
  });
});

describe('dropping', () => {
  it('forgets the signals of a mask, with their siginfo, and keeps the others', () => {
    const t = target();
    const rt = SIGRTMIN + 5;
    for (const s of [SIG.SIGSTOP, SIG.SIGTSTP, SIG.SIGCONT, rt, rt]) queueSignal(t, s, info(s, 0));
    dropSignals(t, bit(SIG.SIGSTOP) | bit(SIG.SIGTSTP) | bit(rt));
    expect(t.pending).toBe(bit(SIG.SIGCONT));
    expect([...t.siginfo.keys()]).toEqual([SIG.SIGCONT]);
  });

  it('an empty mask drops nothing', () => {
    const t = target();
    queueSignal(t, SIG.SIGHUP, info(SIG.SIGHUP, 0));
    dropSignals(t, 0n);
    expect(t.pending).toBe(bit(SIG.SIGHUP));
    expect(t.siginfo.size).toBe(1);
  });
});

// signal(7), "Standard signals": the default action of each signal Linux
// numbers on x86_64 and arm64 (the generic numbering); "the default action
// for an unhandled real-time signal is to terminate the receiving process".
const SIGNAL_7: Record<string, DefaultAction> = {
  SIGHUP: 'term',
  SIGINT: 'term',
  SIGQUIT: 'core',
  SIGILL: 'core',
  SIGTRAP: 'core',
  SIGABRT: 'core',
  SIGBUS: 'core',
  SIGFPE: 'core',
  SIGKILL: 'term',
  SIGUSR1: 'term',
  SIGSEGV: 'core',
  SIGUSR2: 'term',
  SIGPIPE: 'term',
  SIGALRM: 'term',
  SIGTERM: 'term',
  SIGSTKFLT: 'term',
  SIGCHLD: 'ignore',
  SIGCONT: 'cont',
  SIGSTOP: 'stop',
  SIGTSTP: 'stop',
  SIGTTIN: 'stop',
  SIGTTOU: 'stop',
  SIGURG: 'ignore',
  SIGXCPU: 'core',
  SIGXFSZ: 'core',
  SIGVTALRM: 'term',
  SIGPROF: 'term',
  SIGWINCH: 'ignore',
  SIGIO: 'term',
  SIGPWR: 'term',
  SIGSYS: 'core',
};

describe('default actions', () => {
  it("of signals 1..31 are signal(7)'s", () => {
    expect(Object.keys(SIGNAL_7).sort()).toEqual(Object.keys(SIG).sort());
    for (const [name, action] of Object.entries(SIGNAL_7)) expect(defaultAction(SIG[name as keyof typeof SIG]), name).toBe(action);
  });

  it('of the real-time signals 32..64 is to terminate', () => {
    for (let sig = SIGRTMIN; sig <= NSIG; sig++) expect(defaultAction(sig), `${sig}`).toBe('term');
  });
});

describe('signal sets', () => {
  it('only SIGKILL and SIGSTOP are unblockable', () => {
    for (let sig = 1; sig <= NSIG; sig++) expect((UNBLOCKABLE & bit(sig)) !== 0n, `${sig}`).toBe(sig === SIG.SIGKILL || sig === SIG.SIGSTOP);
  });

  it("the synchronous signals are those a fault raises (Linux's SYNCHRONOUS_MASK)", () => {
    const want = [SIG.SIGSEGV, SIG.SIGBUS, SIG.SIGILL, SIG.SIGTRAP, SIG.SIGFPE, SIG.SIGSYS];
    for (let sig = 1; sig <= NSIG; sig++) expect((SYNCHRONOUS & bit(sig)) !== 0n, `${sig}`).toBe((want as number[]).includes(sig));
  });
});

describe('siginfo', () => {
  it('of a signal a process sends: SI_USER, its pid and uid', () => {
    const b = userSiginfo(SIG.SIGTERM, 1234, 1000);
    expect(b.length).toBe(128);
    expect([b.readInt32LE(0), b.readInt32LE(8), b.readInt32LE(16), b.readUInt32LE(20)]).toEqual([SIG.SIGTERM, SI_USER, 1234, 1000]);
  });

  it("of a child's exit, stop and continue: the CLD_* code and the status", () => {
    const child = { pid: 42, cred: { ruid: 7 }, exit: null } as unknown as Process;
    const fields = (b: Buffer): number[] => [b.readInt32LE(0), b.readInt32LE(8), b.readInt32LE(16), b.readUInt32LE(20), b.readInt32LE(24)];
    expect(fields(childSiginfo(child, SIG.SIGCHLD, { stopped: SIG.SIGTSTP }))).toEqual([SIG.SIGCHLD, CLD_STOPPED, 42, 7, SIG.SIGTSTP]);
    expect(fields(childSiginfo(child, SIG.SIGCHLD, 'continued'))).toEqual([SIG.SIGCHLD, CLD_CONTINUED, 42, 7, SIG.SIGCONT]);
    child.exit = { kind: 'exited', code: 3 };
    expect(fields(childSiginfo(child, SIG.SIGUSR1, null))).toEqual([SIG.SIGUSR1, CLD_EXITED, 42, 7, 3]);
    child.exit = { kind: 'signaled', signal: SIG.SIGKILL };
    expect(fields(childSiginfo(child, SIG.SIGCHLD, null))).toEqual([SIG.SIGCHLD, CLD_KILLED, 42, 7, SIG.SIGKILL]);
    child.exit = { kind: 'signaled', signal: SIG.SIGSEGV, core: true };
    expect(fields(childSiginfo(child, SIG.SIGCHLD, null))[1]).toBe(CLD_DUMPED);
  });
});
