// The text of /proc/<pid>/stat and /proc/<pid>/status, and the bytes of
// /proc/<pid>/auxv, from what the kernel knows of a process. The views below
// name only the fields these need, so that they can be built for any process
// (a test's made-up one too).

/** A thread, as stat's state and status's signal masks see it. */
export interface ThreadView {
  readonly state: string;
  readonly pending: bigint;
  readonly sigmask: bigint;
  /** seccomp's mode and the length of its filter chain */
  readonly seccomp: { readonly mode: number; readonly filter: { readonly count: number } | null } | null;
}

/** A process, as stat and status show it. */
export interface ProcessView {
  readonly pid: number;
  /** 0 for the first guest process: its parent is elfrun's own */
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  readonly comm: string;
  /** null while the process has not exited */
  readonly exit: object | null;
  readonly stopped: boolean;
  readonly threads: ReadonlySet<ThreadView>;
  /** when it started, in ms on the monotonic clock (the boot-time clock of stat's starttime) */
  readonly startTime: number;
  /** user and system CPU time (ms) of the thread group, and of its reaped children */
  readonly utimeMs: number;
  readonly stimeMs: number;
  readonly childrenUtimeMs: number;
  readonly childrenStimeMs: number;
  /** signals pending for the whole process */
  readonly pending: bigint;
  readonly noNewPrivs: boolean;
  readonly cred: { readonly ruid: number; readonly euid: number; readonly suid: number; readonly fsuid: number; readonly rgid: number; readonly egid: number; readonly sgid: number; readonly fsgid: number; readonly groups: readonly number[]; readonly caps: { readonly eff: bigint; readonly prm: bigint; readonly inh: bigint; readonly bnd: bigint; readonly amb: bigint } };
  readonly fs: { readonly umask: number };
  readonly sighand: { readonly actions: ReadonlyArray<{ readonly handler: number }> };
  readonly mm: { readonly space: { readonly vmas: ReadonlyArray<{ readonly size: number }>; lockedBytes(): number }; readonly flags?: { readonly thpDisable: number } };
  readonly fds: { entries(): ReadonlyArray<readonly [number, unknown]> };
  /** its controlling terminal (a guest pty's has its device number and foreground group) */
  readonly ctty: { readonly pty: boolean; readonly rdev: number; readonly pgrp: number | null } | null;
}

/** status's memory lines, in pages (memory.ts's MemSummary). */
export interface StatusMemory {
  readonly rss: number;
  readonly rssAnon: number;
  readonly rssFile: number;
  readonly rssShmem: number;
  readonly data: number;
  readonly stk: number;
  readonly exe: number;
  readonly lib: number;
}

/** The kernel's side of stat: elfrun's parent, and the controlling terminal the guest's session shares. */
export interface StatKernelView {
  readonly hostPpid: number;
  /** tty_nr of the controlling terminal, 0 for none */
  readonly ttyNr: number;
  /** the session of the first guest process (which holds the terminal), null before there is one */
  readonly initSid: number | null;
  /** the terminal's foreground process group */
  foreground(): number;
}

/** stat's one-letter state: zombie, stopped, running (some thread runnable) or sleeping. */
export function stateChar(p: ProcessView): 'Z' | 'T' | 'R' | 'S' {
  if (p.exit !== null) return 'Z';
  if (p.stopped) return 'T';
  return [...p.threads].some((t) => t.state === 'runnable') ? 'R' : 'S';
}

const STATE_NAMES = { R: 'running', S: 'sleeping', Z: 'zombie', T: 'stopped' };

/** A signal set as status shows it: 16 hex digits. */
const sigmaskHex = (m: bigint): string => m.toString(16).padStart(16, '0');

/** The set of signals whose action is `which` (SIG_IGN is handler 1; a handler is any address above it). */
function actionSet(p: ProcessView, which: 'ignored' | 'caught'): bigint {
  return p.sighand.actions.reduce((m, a, sig) => (sig > 0 && (which === 'ignored' ? a.handler === 1 : a.handler > 1) ? m | (1n << BigInt(sig - 1)) : m), 0n);
}

const vmBytes = (p: ProcessView): number => p.mm.space.vmas.reduce((n, v) => n + v.size, 0);

/** stat's clock ticks: USER_HZ is 100 */
const ticks = (ms: number): number => Math.floor(ms / 10);

/**
 * /proc/<pid>/stat: proc(5)'s fields up to env_end (the 52nd, exit_code, is
 * not shown); those elfrun does not keep are 0. `rssPages`: the resident
 * pages (memory.ts). `thread`: for /proc/<pid>/task/<tid>/stat, whose utime
 * and stime are that thread's (cutime and cstime stay the process's, as
 * Linux's do_task_stat shows them).
 */
export function statText(p: ProcessView, k: StatKernelView, rssPages = 0, thread: { readonly utimeNow: number; readonly stimeNow: number } | null = null): string {
  const pty = p.ctty?.pty === true ? p.ctty : null;
  const ctty = pty === null && k.ttyNr !== 0 && p.sid === (k.initSid ?? p.sid);
  const ttyNr = pty !== null ? pty.rdev : ctty ? k.ttyNr : 0;
  const tpgid = pty !== null ? (pty.pgrp ?? -1) : ctty ? k.foreground() : -1;
  const start = Math.round((p.startTime / 1000) * 100);
  // flags: PF_RANDOMIZE (0x400000); priority 20, nice 0; rsslim RLIM_INFINITY; exit_signal SIGCHLD (17)
  const f = [p.pid, `(${p.comm})`, stateChar(p), p.ppid || k.hostPpid, p.pgid, p.sid, ttyNr, tpgid, 0x400000, 0, 0, 0, 0, ticks(thread?.utimeNow ?? p.utimeMs), ticks(thread?.stimeNow ?? p.stimeMs), ticks(p.childrenUtimeMs), ticks(p.childrenStimeMs), 20, 0, p.threads.size, 0, start, vmBytes(p), rssPages, '18446744073709551615', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  return f.join(' ') + '\n';
}

/** /proc/<pid>/status: the lines elfrun knows, in Linux's order. */
export function statusText(p: ProcessView, hostPpid: number, mem: StatusMemory | null = null): string {
  const kb = (k: string, pages: number): string => `${k}:\t${String(pages * 4).padStart(8)} kB`;
  const c = p.cred;
  const leader = [...p.threads][0];
  const st = stateChar(p);
  const maxFd = Math.max(1, ...p.fds.entries().map(([fd]) => fd + 1));
  const lines = [
    `Name:\t${p.comm}`,
    `Umask:\t${p.fs.umask.toString(8).padStart(4, '0')}`,
    `State:\t${st} (${STATE_NAMES[st]})`,
    `Tgid:\t${p.pid}`,
    `Ngid:\t0`,
    `Pid:\t${p.pid}`,
    `PPid:\t${p.ppid || hostPpid}`,
    `TracerPid:\t0`,
    `Uid:\t${c.ruid}\t${c.euid}\t${c.suid}\t${c.fsuid}`,
    `Gid:\t${c.rgid}\t${c.egid}\t${c.sgid}\t${c.fsgid}`,
    // the fd table's size: at least 64, a power of two
    `FDSize:\t${Math.max(64, 2 ** Math.ceil(Math.log2(maxFd)))}`,
    `Groups:\t${c.groups.map((g) => `${g} `).join('') || ' '}`,
    `VmSize:\t${String(vmBytes(p) >> 10).padStart(8)} kB`,
    `VmLck:\t${String(p.mm.space.lockedBytes() >> 10).padStart(8)} kB`,
    ...(mem === null
      ? []
      : [kb('VmRSS', mem.rss), kb('RssAnon', mem.rssAnon), kb('RssFile', mem.rssFile), kb('RssShmem', mem.rssShmem), kb('VmData', mem.data), kb('VmStk', mem.stk), kb('VmExe', mem.exe), kb('VmLib', mem.lib)]),
    // transparent huge pages, unless prctl PR_SET_THP_DISABLE turned them off wholly
    `THP_enabled:\t${p.mm.flags?.thpDisable === 1 ? 0 : 1}`,
    `Threads:\t${p.threads.size}`,
    `SigPnd:\t${sigmaskHex(leader?.pending ?? 0n)}`,
    `ShdPnd:\t${sigmaskHex(p.pending)}`,
    `SigBlk:\t${sigmaskHex(leader?.sigmask ?? 0n)}`,
    `SigIgn:\t${sigmaskHex(actionSet(p, 'ignored'))}`,
    `SigCgt:\t${sigmaskHex(actionSet(p, 'caught'))}`,
    `CapInh:\t${sigmaskHex(c.caps.inh)}`,
    `CapPrm:\t${sigmaskHex(c.caps.prm)}`,
    `CapEff:\t${sigmaskHex(c.caps.eff)}`,
    `CapBnd:\t${sigmaskHex(c.caps.bnd)}`,
    `CapAmb:\t${sigmaskHex(c.caps.amb)}`,
    `NoNewPrivs:\t${p.noNewPrivs ? 1 : 0}`,
    `Seccomp:\t${leader?.seccomp?.mode ?? 0}`,
    `Seccomp_filters:\t${leader?.seccomp?.filter?.count ?? 0}`,
  ];
  return lines.join('\n') + '\n';
}

/** /proc/<pid>/auxv: the auxiliary vector's (type, value) pairs as 64-bit words. */
export function auxvBytes(pairs: ReadonlyArray<readonly [number, number | bigint]>): Buffer {
  const b = Buffer.alloc(pairs.length * 16);
  pairs.forEach(([k, v], i) => {
    b.writeBigUInt64LE(BigInt(k), 16 * i);
    b.writeBigUInt64LE(BigInt(v), 16 * i + 8);
  });
  return b;
}
