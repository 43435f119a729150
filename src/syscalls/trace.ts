// strace-compatible tracing. An observer of the dispatcher: with no tracer set
// the dispatcher pays one null check per syscall and builds no strings.
//
// Each syscall's arguments are described by kinds (ARGS below); the decoder
// follows strace's own formats so that a trace can be read, and diffed, like
// `strace -f` of the native run.
import { writeSync } from 'node:fs';
import type { Task } from '../proc/task.js';
import type { Args } from '../cpu/args.js';
import type { SyscallEntry } from './dispatch.js';
import { errnoMessage, errnoName } from '../abi/errno.js';
import { signalName } from '../abi/signal.js';
import { OPEN_FLAGS } from '../fs/flags.js';
import { fdTarget } from '../procfs/procfs.js';
import type { Timeline } from './timeline.js';
import type { KernelObserver } from '../proc/services.js';
import { nowMs } from '../host/clock.js';

type Kind =
  | 'int' | 'uint' | 'hex' | 'ptr' | 'size' | 'off' | 'fd' | 'dirfd' | 'path' | 'strin' | 'strout' | 'oflags' | 'mode'
  | 'atflags' | 'sig' | 'sigset' | 'sigact' | 'sighow' | 'clock' | 'ts' | 'tsout' | 'stat' | 'iovin' | 'iovout' | 'prot'
  | 'mapflags' | 'wstatus' | 'wopts' | 'cloneflags' | 'ioctl' | 'fcntl' | 'whence' | 'argv' | 'envp' | 'fds2' | 'rlimres'
  | 'rlim' | 'rlimout' | 'prctl' | 'archprctl' | 'grnd' | 'futexop' | 'pollfds' | 'accmode' | 'umask' | 'x' | 'cloexec' | 'sockfamily' | 'socktype' | 'sockaddr' | 'idtype' | 'siginfoout';

/** The argument kinds of each syscall, by name (as strace prints them). */
const ARGS: Record<string, Kind[]> = {
  read: ['fd', 'strout', 'size'],
  write: ['fd', 'strin', 'size'],
  pread64: ['fd', 'strout', 'size', 'off'],
  pwrite64: ['fd', 'strin', 'size', 'off'],
  readv: ['fd', 'iovout', 'int'],
  writev: ['fd', 'iovin', 'int'],
  open: ['path', 'oflags', 'mode'],
  openat: ['dirfd', 'path', 'oflags', 'mode'],
  creat: ['path', 'mode'],
  close: ['fd'],
  lseek: ['fd', 'off', 'whence'],
  fstat: ['fd', 'stat'],
  stat: ['path', 'stat'],
  lstat: ['path', 'stat'],
  newfstatat: ['dirfd', 'path', 'stat', 'atflags'],
  statx: ['dirfd', 'path', 'atflags', 'hex', 'ptr'],
  getdents64: ['fd', 'ptr', 'size'],
  ioctl: ['fd', 'ioctl', 'ptr'],
  fcntl: ['fd', 'fcntl', 'x'],
  dup: ['fd'],
  dup2: ['fd', 'fd'],
  dup3: ['fd', 'fd', 'cloexec'],
  pipe: ['fds2'],
  pipe2: ['fds2', 'cloexec'],
  socket: ['sockfamily', 'socktype', 'int'],
  connect: ['fd', 'sockaddr', 'int'],
  readlink: ['path', 'strout', 'size'],
  readlinkat: ['dirfd', 'path', 'strout', 'size'],
  access: ['path', 'accmode'],
  faccessat: ['dirfd', 'path', 'accmode'],
  faccessat2: ['dirfd', 'path', 'accmode', 'atflags'],
  getcwd: ['strout', 'size'],
  chdir: ['path'],
  fchdir: ['fd'],
  umask: ['umask'],
  unlink: ['path'],
  unlinkat: ['dirfd', 'path', 'atflags'],
  mkdir: ['path', 'mode'],
  mkdirat: ['dirfd', 'path', 'mode'],
  rmdir: ['path'],
  rename: ['path', 'path'],
  renameat: ['dirfd', 'path', 'dirfd', 'path'],
  renameat2: ['dirfd', 'path', 'dirfd', 'path', 'hex'],
  symlink: ['path', 'path'],
  symlinkat: ['path', 'dirfd', 'path'],
  link: ['path', 'path'],
  linkat: ['dirfd', 'path', 'dirfd', 'path', 'atflags'],
  chmod: ['path', 'mode'],
  fchmod: ['fd', 'mode'],
  fchmodat: ['dirfd', 'path', 'mode'],
  chown: ['path', 'int', 'int'],
  fchown: ['fd', 'int', 'int'],
  fchownat: ['dirfd', 'path', 'int', 'int', 'atflags'],
  ftruncate: ['fd', 'off'],
  truncate: ['path', 'off'],
  sendfile: ['fd', 'fd', 'ptr', 'size'],
  brk: ['ptr'],
  mmap: ['ptr', 'size', 'prot', 'mapflags', 'fd', 'hex'],
  munmap: ['ptr', 'size'],
  mprotect: ['ptr', 'size', 'prot'],
  mremap: ['ptr', 'size', 'size', 'hex', 'ptr'],
  madvise: ['ptr', 'size', 'int'],
  exit: ['int'],
  exit_group: ['int'],
  getpid: [],
  getppid: [],
  gettid: [],
  getuid: [],
  geteuid: [],
  getgid: [],
  getegid: [],
  getpgrp: [],
  setsid: [],
  getpgid: ['int'],
  setpgid: ['int', 'int'],
  getsid: ['int'],
  set_tid_address: ['ptr'],
  set_robust_list: ['ptr', 'size'],
  arch_prctl: ['archprctl', 'ptr'],
  prctl: ['prctl', 'x', 'x', 'x', 'x'],
  prlimit64: ['int', 'rlimres', 'rlim', 'rlimout'],
  getrlimit: ['rlimres', 'rlimout'],
  setrlimit: ['rlimres', 'rlim'],
  uname: ['ptr'],
  sysinfo: ['ptr'],
  getrandom: ['strout', 'size', 'grnd'],
  clock_gettime: ['clock', 'tsout'],
  clock_getres: ['clock', 'tsout'],
  gettimeofday: ['ptr', 'ptr'],
  nanosleep: ['ts', 'ptr'],
  clock_nanosleep: ['clock', 'int', 'ts', 'ptr'],
  rt_sigaction: ['sig', 'sigact', 'sigact', 'size'],
  rt_sigprocmask: ['sighow', 'sigset', 'sigset', 'size'],
  rt_sigreturn: [],
  rt_sigsuspend: ['sigset', 'size'],
  sigaltstack: ['ptr', 'ptr'],
  kill: ['int', 'sig'],
  tkill: ['int', 'sig'],
  tgkill: ['int', 'int', 'sig'],
  pause: [],
  clone: ['cloneflags', 'ptr', 'ptr', 'ptr', 'ptr'],
  fork: [],
  vfork: [],
  execve: ['path', 'argv', 'envp'],
  execveat: ['dirfd', 'path', 'argv', 'envp', 'atflags'],
  wait4: ['int', 'wstatus', 'wopts', 'ptr'],
  waitid: ['idtype', 'int', 'siginfoout', 'wopts', 'ptr'],
  futex: ['ptr', 'futexop', 'int', 'ptr', 'ptr', 'int'],
  poll: ['pollfds', 'uint', 'int'],
  ppoll: ['pollfds', 'uint', 'ts', 'sigset', 'size'],
  sched_yield: [],
  rseq: ['ptr', 'hex', 'int', 'hex'],
  fsync: ['fd'],
  fdatasync: ['fd'],
};

/** Arguments the kernel writes: decoded after the call returns. */
const OUTPUT_KINDS = new Set<Kind>(['strout', 'stat', 'tsout', 'fds2', 'rlimout', 'wstatus', 'iovout', 'siginfoout']);

/** A call between its entry and its exit. */
export interface Pending {
  name: string;
  /** nowMs() at entry, and when the call first parked (timeline) */
  t0?: number;
  parkedAt?: number;
  /** the line prefix when the call began ([pid N] under -f) */
  prefix?: string;
  inputs: string[];
  /** index of the first output argument (strace prints up to it before "<unfinished ...>") */
  firstOut: number;
}

const ESC: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r', 12: '\\f', 11: '\\v', 34: '\\"', 92: '\\\\' };

export interface TraceOptions {
  /** write lines here (an fd) */
  fd: number;
  follow: boolean;
  /** only these syscall names (undefined: all) */
  only?: Set<string>;
  /** strace -s */
  strsize: number;
  /** tracing to a file (-o): under -f every line starts with the pid, as strace does */
  toFile?: boolean;
  /** strace -y: show the path (or pipe/socket) behind each fd */
  decodeFds?: boolean;
  /** one JSON object per line instead of strace's text */
  json?: boolean;
  /** no text or JSON lines at all (a timeline only) */
  quiet?: boolean;
  /** also record a Chrome/Perfetto timeline of the run */
  timeline?: Timeline;
}

/** Syscalls that return a new fd (strace -y decorates the return value). */
const FD_RET = new Set(['open', 'openat', 'creat', 'dup', 'dup2', 'dup3', 'memfd_create', 'eventfd', 'eventfd2', 'epoll_create', 'epoll_create1', 'socket', 'accept', 'accept4', 'signalfd4', 'timerfd_create', 'inotify_init1', 'pidfd_open']);

const flagNames = (v: number, table: Array<[number, string]>, zero = '0'): string => {
  const out: string[] = [];
  let rest = v >>> 0;
  for (const [bit, name] of table) {
    if (bit !== 0 && (rest & bit) === bit) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out.length ? out.join('|') : zero;
};

const PROT: Array<[number, string]> = [[1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC']];
const MAPF: Array<[number, string]> = [[0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x100, 'MAP_GROWSDOWN'], [0x800, 'MAP_DENYWRITE'], [0x4000, 'MAP_NORESERVE'], [0x8000, 'MAP_POPULATE'], [0x20000, 'MAP_STACK'], [0x100000, 'MAP_FIXED_NOREPLACE']];
const CLONEF: Array<[number, string]> = [[0x100, 'CLONE_VM'], [0x200, 'CLONE_FS'], [0x400, 'CLONE_FILES'], [0x800, 'CLONE_SIGHAND'], [0x1000, 'CLONE_PIDFD'], [0x4000, 'CLONE_VFORK'], [0x8000, 'CLONE_PARENT'], [0x10000, 'CLONE_THREAD'], [0x40000, 'CLONE_SYSVSEM'], [0x80000, 'CLONE_SETTLS'], [0x100000, 'CLONE_PARENT_SETTID'], [0x200000, 'CLONE_CHILD_CLEARTID'], [0x1000000, 'CLONE_CHILD_SETTID']];
const ATF: Array<[number, string]> = [[0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_REMOVEDIR'], [0x400, 'AT_SYMLINK_FOLLOW'], [0x800, 'AT_NO_AUTOMOUNT'], [0x1000, 'AT_EMPTY_PATH']];
/** The fields of a siginfo_t (128 bytes, signal number `sig`) as strace prints them, without the braces. */
function siginfoBody(sig: number, info: Uint8Array): string {
  const dv = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const code = dv.getInt32(8, true);
  let body = `si_signo=${signalName(sig)}, si_code=`;
  if (sig === 17 && code >= 1 && code <= 6) {
    body += ['', 'CLD_EXITED', 'CLD_KILLED', 'CLD_DUMPED', 'CLD_TRAPPED', 'CLD_STOPPED', 'CLD_CONTINUED'][code];
    const status = dv.getInt32(24, true);
    body += `, si_pid=${dv.getInt32(16, true)}, si_uid=${dv.getUint32(20, true)}, si_status=${code === 1 ? status : signalName(status)}, si_utime=0, si_stime=0`;
  } else if (code === 0 || code === -6) {
    body += code === 0 ? 'SI_USER' : 'SI_TKILL';
    body += `, si_pid=${dv.getInt32(16, true)}, si_uid=${dv.getUint32(20, true)}`;
  } else if (code === 0x80) {
    body += 'SI_KERNEL';
  } else if (sig === 11 || sig === 7 || sig === 4 || sig === 8) {
    body += `${code}, si_addr=0x${dv.getBigUint64(16, true).toString(16)}`;
  } else body += String(code);
  return body;
}

/** A wait status as strace's printstatus shows it: stopped, killed, exited or continued, then any other bits. */
function waitStatus(s: number): string {
  let rest = s;
  let head: string;
  if ((s & 0xff) === 0x7f) {
    const sig = (s >> 8) & 0xff;
    head = `[{WIFSTOPPED(s) && WSTOPSIG(s) == ${signalName(sig & 0x7f)}${sig & 0x80 ? ' | 0x80' : ''}}`;
    rest &= ~0xff7f;
  } else if ((s & 0x7f) !== 0 && (s & 0x7f) !== 0x7f) {
    head = `[{WIFSIGNALED(s) && WTERMSIG(s) == ${signalName(s & 0x7f)}${s & 0x80 ? ' && WCOREDUMP(s)' : ''}}`;
    rest &= ~0xff;
  } else if ((s & 0x7f) === 0) {
    head = `[{WIFEXITED(s) && WEXITSTATUS(s) == ${(s >> 8) & 0xff}}`;
    rest &= ~0xff00;
  } else if ((s & 0xffff) === 0xffff) {
    head = '[{WIFCONTINUED(s)}';
    rest &= ~0xffff;
  } else return `[0x${(s >>> 0).toString(16)}]`;
  // (strace names a ptrace event in bits 16 and up; elfrun has no ptrace)
  return rest !== 0 ? `${head} | 0x${(rest >>> 0).toString(16)}]` : `${head}]`;
}

// strace names 2 WSTOPPED (WUNTRACED is the same bit)
const WOPT: Array<[number, string]> = [[1, 'WNOHANG'], [2, 'WSTOPPED'], [4, 'WEXITED'], [8, 'WCONTINUED'], [0x01000000, 'WNOWAIT'], [0x20000000, '__WNOTHREAD'], [0x40000000, '__WALL'], [0x80000000, '__WCLONE']];
const SAF: Array<[number, string]> = [[0x4, 'SA_SIGINFO'], [0x8000000, 'SA_ONSTACK'], [0x10000000, 'SA_RESTART'], [0x40000000, 'SA_NODEFER'], [0x80000000, 'SA_RESETHAND'], [0x1, 'SA_NOCLDSTOP'], [0x2, 'SA_NOCLDWAIT'], [0x4000000, 'SA_RESTORER']];
const RLIM = ['RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME'];
const CLOCKS = ['CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_PROCESS_CPUTIME_ID', 'CLOCK_THREAD_CPUTIME_ID', 'CLOCK_MONOTONIC_RAW', 'CLOCK_REALTIME_COARSE', 'CLOCK_MONOTONIC_COARSE', 'CLOCK_BOOTTIME', 'CLOCK_REALTIME_ALARM', 'CLOCK_BOOTTIME_ALARM', '10', 'CLOCK_TAI'];
const IOCTLS: Record<number, string> = { 0x5401: 'TCGETS', 0x5402: 'TCSETS', 0x5403: 'TCSETSW', 0x5404: 'TCSETSF', 0x540f: 'TIOCGPGRP', 0x5410: 'TIOCSPGRP', 0x5413: 'TIOCGWINSZ', 0x5414: 'TIOCSWINSZ', 0x541b: 'FIONREAD', 0x5421: 'FIONBIO', 0x5450: 'FIONCLEX', 0x5451: 'FIOCLEX' };
const FCNTL: Record<number, string> = { 0: 'F_DUPFD', 1: 'F_GETFD', 2: 'F_SETFD', 3: 'F_GETFL', 4: 'F_SETFL', 5: 'F_GETLK', 6: 'F_SETLK', 7: 'F_SETLKW', 1030: 'F_DUPFD_CLOEXEC' };
const PRCTL: Record<number, string> = { 1: 'PR_SET_PDEATHSIG', 2: 'PR_GET_PDEATHSIG', 3: 'PR_GET_DUMPABLE', 4: 'PR_SET_DUMPABLE', 15: 'PR_SET_NAME', 16: 'PR_GET_NAME', 38: 'PR_SET_NO_NEW_PRIVS', 39: 'PR_GET_NO_NEW_PRIVS' };
const ARCHP: Record<number, string> = { 0x1001: 'ARCH_SET_GS', 0x1002: 'ARCH_SET_FS', 0x1003: 'ARCH_GET_FS', 0x1004: 'ARCH_GET_GS', 0x1011: 'ARCH_GET_CPUID', 0x1012: 'ARCH_SET_CPUID', 0x3001: 'ARCH_CET_STATUS' };
const FUTEX = ['FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_FD', 'FUTEX_REQUEUE', 'FUTEX_CMP_REQUEUE', 'FUTEX_WAKE_OP', 'FUTEX_LOCK_PI', 'FUTEX_UNLOCK_PI', 'FUTEX_TRYLOCK_PI', 'FUTEX_WAIT_BITSET', 'FUTEX_WAKE_BITSET'];
const SIGHOW = ['SIG_BLOCK', 'SIG_UNBLOCK', 'SIG_SETMASK'];

const FAMILIES: Record<number, string> = { 0: 'AF_UNSPEC', 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET' };
const SOCKTYPES: Record<number, string> = { 1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 5: 'SOCK_SEQPACKET' };

/** Syscalls whose return value strace prints in hex. */
const HEX_RET = new Set(['brk', 'mmap', 'mremap']);

export class Tracer implements KernelObserver {
  /** the task whose line is open ("... <unfinished ...>" pending) */
  private open: Task | null = null;
  private openText = '';
  /** per-task text of a call that parked, for its "<... resumed>" line */
  private parked = new Map<Task, string>();
  /** the call each task is in, kept across a park */
  readonly pending = new Map<Task, Pending>();

  constructor(readonly o: TraceOptions) {}

  get follow(): boolean {
    return this.o.follow;
  }

  wants(name: string): boolean {
    return this.o.only === undefined || this.o.only.has(name);
  }

  /** strace prefixes lines with the pid while more than one traced task lives. */
  live = (): number => 1;

  private prefix(t: Task | number): string {
    const tid = typeof t === 'number' ? t : t.tid;
    if (!this.o.follow) return '';
    if (this.o.toFile) return `${String(tid).padEnd(5)} `;
    return this.live() > 1 ? `[pid ${String(tid).padStart(5)}] ` : '';
  }

  private emit(line: string): void {
    this.flushOpen();
    writeSync(this.o.fd, line + '\n');
  }

  // ---- syscalls ------------------------------------------------------------------

  /** Arguments whose presence or kind depends on another argument, as strace shows them. */
  private special(t: Task, name: string, a: Args): string[] | null {
    switch (name) {
      case 'open':
      case 'openat': {
        const i = name === 'open' ? 0 : 1;
        const flags = a.i32(i + 1);
        const out = [...(name === 'openat' ? [this.input(t, 'dirfd', a, 0)] : []), this.input(t, 'path', a, i), this.input(t, 'oflags', a, i + 1)];
        if (flags & 0o100 || (flags & 0o20000000) !== 0) out.push(this.input(t, 'mode', a, i + 2));
        return out;
      }
      case 'prctl': {
        const op = a.i32(0);
        const opName = this.input(t, 'prctl', a, 0);
        if (op === 15) return [opName, this.cstr(t, a.ptr(1))];
        if (op === 16) return [opName, this.hex(a, 1)];
        if (op === 1) return [opName, this.input(t, 'sig', a, 1)];
        if (op === 3 || op === 39) return [opName];
        return [opName, this.hex(a, 1), this.hex(a, 2), this.hex(a, 3), this.hex(a, 4)];
      }
      case 'fcntl': {
        const cmd = a.i32(1);
        const head = [this.input(t, 'fd', a, 0), this.input(t, 'fcntl', a, 1)];
        if (cmd === 1 || cmd === 3) return head;
        if (cmd === 2) return [...head, a.i32(2) & 1 ? 'FD_CLOEXEC' : '0'];
        if (cmd === 4) return [...head, this.oflags(t, a.i32(2)).replace(/^O_RDONLY\|?/, '') || '0'];
        return [...head, String(a.i32(2))];
      }
      default:
        return null;
    }
  }

  /** Entry: the input arguments are decoded now (memory may change before exit). */
  enter(t: Task, e: SyscallEntry, a: Args): Pending {
    const p = this.enter0(t, e, a);
    if (this.o.timeline) p.t0 = nowMs();
    return p;
  }

  private enter0(t: Task, e: SyscallEntry, a: Args): Pending {
    const special = this.special(t, e.name, a);
    if (special !== null) return { name: e.name, prefix: this.prefix(t), inputs: special, firstOut: special.length };
    const kinds = ARGS[e.name];
    if (kinds === undefined) {
      const all = [0, 1, 2, 3, 4, 5].map((i) => this.hex(a, i));
      return { name: e.name, prefix: this.prefix(t), inputs: all, firstOut: all.length };
    }
    const firstOut = kinds.findIndex((k) => OUTPUT_KINDS.has(k));
    return { name: e.name, prefix: this.prefix(t), inputs: kinds.map((k, i) => this.input(t, k, a, i)), firstOut: firstOut < 0 ? kinds.length : firstOut };
  }

  /** Exit: outputs decoded, the line printed (or its "<... resumed>" half). */
  exit(t: Task, a: Args, p: Pending, ret: number): void {
    const kinds = p.name === 'prctl' || p.name === 'open' || p.name === 'openat' || p.name === 'fcntl' ? [] : ARGS[p.name] ?? [];
    if (p.name === 'prctl' && a.i32(0) === 16 && ret === 0) p.inputs[1] = this.cstr(t, a.ptr(1));
    const args = p.inputs.map((s, i) => (i < kinds.length && OUTPUT_KINDS.has(kinds[i]) ? this.output(t, kinds[i], a, i, ret) ?? s : s));
    const r = this.ret(p.name, ret, t, a);
    this.record(t, p, args, r, ret);
    if (this.o.json || this.o.quiet) {
      this.parked.delete(t);
      return;
    }
    if (this.open === t) this.open = null;
    if (this.parked.delete(t)) {
      this.emit(`${this.prefix(t)}<... ${p.name} resumed>${args.slice(p.firstOut).join(', ')})`.padEnd(39) + ` = ${r}`);
    } else {
      this.emit(`${this.prefix(t)}${p.name}(${args.join(', ')})`.padEnd(39) + ` = ${r}`);
    }
  }

  /** The structured side of a finished call: a JSON line, timeline events. */
  private record(t: Task, p: Pending, args: string[], r: string, ret: number | null): void {
    const tl = this.o.timeline;
    if (tl) {
      tl.syscall(t, p.name, args.join(', '), r, p.t0 ?? nowMs(), p.parkedAt ?? null);
      if (ret !== null && ret > 0 && (p.name === 'clone' || p.name === 'fork' || p.name === 'vfork' || p.name === 'clone3')) tl.instant(t, `${p.name} → ${ret}`, 'process', { child: ret });
      if (ret === 0 && (p.name === 'execve' || p.name === 'execveat')) tl.instant(t, `exec ${t.proc.exePath}`, 'process');
    }
    if (this.o.json && !this.o.quiet) {
      const o: Record<string, unknown> = { pid: t.tid, syscall: p.name, args };
      if (ret === null) o.ret = null;
      else if (ret < 0 && ret > -4096) Object.assign(o, { ret: -1, errno: errnoName(-ret) });
      else o.ret = ret;
      this.jsonLine(o);
    }
  }

  private jsonLine(o: Record<string, unknown>): void {
    writeSync(this.o.fd, JSON.stringify(o) + '\n');
  }

  /** A call that does not return a value (exit_group, a successful execve's "= 0" is printed by exit). */
  noReturn(t: Task, p: Pending): void {
    if (this.o.json || this.o.quiet) {
      this.record(t, p, p.inputs, '?', null);
      this.parked.delete(t);
      const after = this.after.get(t);
      if (after !== undefined) {
        this.after.delete(t);
        this.emit(after);
      }
      return;
    }
    this.record(t, p, p.inputs, '?', null);
    if (this.open === t) this.open = null;
    this.parked.delete(t);
    let ret = '?';
    if (p.name === 'rt_sigreturn') {
      // strace shows the mask the frame restores and the register value it returns
      try {
        const x86 = t.arch.name === 'x86_64';
        const sp = t.cpu.reg(x86 ? 44 : 4);
        const mask = sp + (x86 ? 296 : 128 + 40);
        const r = t.mm.i64(x86 ? sp + 40 + 13 * 8 : sp + 128 + 176 + 8);
        p.inputs = [`{mask=${this.sigset(t, mask)}}`];
        ret = this.ret('rt_sigreturn', r);
      } catch {
        /* an unreadable frame: the guest dies by SIGSEGV, strace shows ? too */
      }
    }
    this.emit(`${p.prefix ?? this.prefix(t)}${p.name}(${p.inputs.join(', ')})`.padEnd(39) + ` = ${ret}`);
    const after = this.after.get(t);
    if (after !== undefined) {
      this.after.delete(t);
      this.emit(after);
    }
  }

  /** The call parked: its line stays open until another line must be written. */
  park(t: Task, p: Pending): void {
    p.parkedAt ??= nowMs();
    if (this.o.json || this.o.quiet) return;
    if (this.open === t || this.parked.has(t)) return; // parked again on a retry
    this.flushOpen();
    this.open = t;
    const shown = p.inputs.slice(0, p.firstOut);
    this.openText = `${this.prefix(t)}${p.name}(${shown.join(', ')}${shown.length && p.firstOut < p.inputs.length ? ', ' : ''}`;
  }

  private flushOpen(): void {
    if (this.open !== null) {
      writeSync(this.o.fd, `${this.openText} <unfinished ...>\n`);
      this.parked.set(this.open, this.openText);
      this.open = null;
    }
  }

  /** An fd as strace shows it: with -y, its path in <...> while it is open. */
  private fd(t: Task, fd: number): string {
    if (!this.o.decodeFds || !t.fds.has(fd)) return String(fd);
    return `${fd}<${fdTarget(t.fds.file(fd))}>`;
  }

  private ret(name: string, r: number, t?: Task, a?: Args): string {
    const dupfd = name === 'fcntl' && a !== undefined && (a.i32(1) === 0 || a.i32(1) === 1030); // F_DUPFD, F_DUPFD_CLOEXEC
    if (t !== undefined && r >= 0 && this.o.decodeFds && (FD_RET.has(name) || dupfd)) return this.fd(t, r);
    if (r < 0 && r > -4096) {
      const err = -r;
      if (err === 512 || err === 513 || err === 514 || err === 516) return `? ${['ERESTARTSYS', 'ERESTARTNOINTR', 'ERESTARTNOHAND', '', 'ERESTART_RESTARTBLOCK'][err - 512]}`;
      return `-1 ${errnoName(err)} (${errnoMessage(err)})`;
    }
    return HEX_RET.has(name) ? `0x${r.toString(16)}` : String(r);
  }

  // ---- process events --------------------------------------------------------------

  signal(t: Task, sig: number, info: Buffer): void {
    const name = signalName(sig);
    const body = siginfoBody(sig, info);
    this.o.timeline?.instant(t, name, 'signal', { siginfo: `{${body}}` });
    if (this.o.quiet) return;
    if (this.o.json) return this.jsonLine({ pid: t.tid, signal: name, siginfo: `{${body}}` });
    this.emit(`${this.prefix(t)}--- ${name} {${body}} ---`);
  }

  /** strace's "--- stopped by SIGTSTP ---" */
  stopped(t: Task, sig: number): void {
    this.o.timeline?.instant(t, `stopped by ${signalName(sig)}`, 'process');
    if (this.o.quiet) return;
    if (this.o.json) return this.jsonLine({ pid: t.tid, stopped: signalName(sig) });
    this.emit(`${this.prefix(t)}--- stopped by ${signalName(sig)} ---`);
  }

  exited(t: Task, state: { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number; core?: boolean }): void {
    this.o.timeline?.instant(t, state.kind === 'exited' ? `exited with ${state.code}` : `killed by ${signalName(state.signal)}`, 'process');
    if (this.o.quiet) return;
    if (this.o.json) {
      const o = state.kind === 'exited' ? { pid: t.proc.pid, exited: state.code } : { pid: t.proc.pid, killed: signalName(state.signal), core: state.core ?? false };
      if (this.pending.has(t)) this.after.set(t, JSON.stringify(o));
      else this.jsonLine(o);
      return;
    }
    const line =
      state.kind === 'exited'
        ? `${this.prefix(t.proc.pid)}+++ exited with ${state.code} +++`
        : `${this.prefix(t.proc.pid)}+++ killed by ${signalName(state.signal)}${state.core ? ' (core dumped)' : ''} +++`;
    // inside its own exit_group: after the "exit_group(0) = ?" line
    if (this.pending.has(t)) this.after.set(t, line);
    else this.emit(line);
  }

  private after = new Map<Task, string>();

  // ---- argument decoding ----------------------------------------------------------------

  private hex(a: Args, i: number): string {
    const v = a.big(i);
    return v === 0n ? '0' : `0x${v.toString(16)}`;
  }

  private str(t: Task, addr: number, len: number): string {
    if (addr === 0) return 'NULL';
    const n = Math.min(len, this.o.strsize);
    let b: Buffer;
    try {
      b = t.mm.read(addr, n);
    } catch {
      return `0x${addr.toString(16)}`;
    }
    return this.quote(b, len > n);
  }

  private quote(b: Uint8Array, more: boolean): string {
    let s = '"';
    const printable = b.every((c) => (c >= 32 && c < 127) || c in ESC);
    for (const c of b) {
      if (!printable) s += `\\x${c.toString(16).padStart(2, '0')}`;
      else s += ESC[c] ?? String.fromCharCode(c);
    }
    return s + '"' + (more ? '...' : '');
  }

  private cstr(t: Task, addr: number): string {
    if (addr === 0) return 'NULL';
    try {
      const b = t.mm.cstring(addr, 4096);
      return this.quote(b.subarray(0, this.o.strsize), b.length > this.o.strsize);
    } catch {
      return `0x${addr.toString(16)}`;
    }
  }

  private oflags(t: Task, f: number): string {
    const o = OPEN_FLAGS[t.arch.name];
    const acc = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', '3'][f & 3];
    const table: Array<[number, string]> = [
      [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'], [0o4000, 'O_NONBLOCK'],
      [0o4010000, 'O_SYNC'], [0o10000, 'O_DSYNC'], [0o20000, 'O_ASYNC'], [o.O_DIRECT, 'O_DIRECT'], [o.O_LARGEFILE, 'O_LARGEFILE'],
      [o.O_DIRECTORY, 'O_DIRECTORY'], [o.O_NOFOLLOW, 'O_NOFOLLOW'], [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC'], [0o10000000, 'O_PATH'],
    ];
    const rest = flagNames(f & ~3, table, '');
    return rest ? `${acc}|${rest}` : acc;
  }

  private sigset(t: Task, addr: number): string {
    if (addr === 0) return 'NULL';
    let m: bigint;
    try {
      m = t.mm.big64(addr);
    } catch {
      return `0x${addr.toString(16)}`;
    }
    const names: string[] = [];
    let count = 0;
    for (let s = 1; s <= 64; s++) if (m & (1n << BigInt(s - 1))) count++;
    if (count > 32) {
      for (let s = 1; s <= 64; s++) if (!(m & (1n << BigInt(s - 1))) && s !== 32 && s !== 33) names.push(signalName(s).replace(/^SIG/, ''));
      return `~[${names.join(' ')}]`;
    }
    for (let s = 1; s <= 64; s++) if (m & (1n << BigInt(s - 1))) names.push(signalName(s).replace(/^SIG/, ''));
    return `[${names.join(' ')}]`;
  }

  private input(t: Task, k: Kind, a: Args, i: number): string {
    switch (k) {
      case 'int':
        return String(a.i32(i));
      case 'fd':
        return this.fd(t, a.i32(i));
      case 'uint':
        return String(a.u32(i));
      case 'dirfd':
        return a.i32(i) === -100 ? (this.o.decodeFds ? `AT_FDCWD<${t.cwd.path}>` : 'AT_FDCWD') : this.fd(t, a.i32(i));
      case 'size':
        return String(a.u64(i));
      case 'off':
        return String(a.i64(i));
      case 'ptr':
      case 'strout':
      case 'stat':
      case 'tsout':
      case 'fds2':
      case 'rlimout':
      case 'wstatus':
      case 'iovout':
      case 'siginfoout':
        return a.u64(i) === 0 ? 'NULL' : this.hex(a, i);
      case 'idtype':
        return ['P_ALL', 'P_PID', 'P_PGID', 'P_PIDFD'][a.i32(i)] ?? String(a.i32(i));
      case 'hex':
      case 'x':
        return this.hex(a, i);
      case 'path':
        return this.cstr(t, a.ptr(i));
      case 'strin':
        return this.str(t, a.ptr(i), a.size(i + 1));
      case 'oflags':
        return this.oflags(t, a.i32(i));
      case 'sockfamily':
        return FAMILIES[a.i32(i)] ?? String(a.i32(i));
      case 'socktype': {
        const v = a.i32(i);
        const base = SOCKTYPES[v & 0xf] ?? String(v & 0xf);
        return [base, ...(v & 0o2000000 ? ['SOCK_CLOEXEC'] : []), ...(v & 0o4000 ? ['SOCK_NONBLOCK'] : [])].join('|');
      }
      case 'sockaddr': {
        const p = a.ptr(i);
        const len = a.u32(i + 1);
        try {
          const raw = t.mm.read(p, Math.min(len, 110));
          const fam = raw.readUInt16LE(0);
          if (fam !== 1) return `{sa_family=${FAMILIES[fam] ?? fam}, ...}`;
          const body = raw.subarray(2);
          if (body[0] === 0) return `{sa_family=AF_UNIX, sun_path=@${JSON.stringify(body.subarray(1).toString('latin1'))}}`;
          const end = body.indexOf(0);
          return `{sa_family=AF_UNIX, sun_path=${JSON.stringify((end < 0 ? body : body.subarray(0, end)).toString('latin1'))}}`;
        } catch {
          return `0x${p.toString(16)}`;
        }
      }
      case 'cloexec':
        // flags without an access mode (pipe2, dup3): 0 when none
        return this.oflags(t, a.i32(i)).replace(/^O_RDONLY\|?/, '') || '0';
      case 'mode':
        return `0${a.u32(i).toString(8)}`;
      case 'umask':
        return `0${a.u32(i).toString(8).padStart(3, '0')}`;
      case 'accmode':
        return a.i32(i) === 0 ? 'F_OK' : flagNames(a.i32(i), [[4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']]);
      case 'atflags':
        return flagNames(a.i32(i), ATF);
      case 'sig':
        return a.i32(i) === 0 ? '0' : signalName(a.i32(i));
      case 'sighow':
        return SIGHOW[a.i32(i)] ?? String(a.i32(i));
      case 'sigset':
        return this.sigset(t, a.ptr(i));
      case 'sigact': {
        const p = a.ptr(i);
        if (p === 0) return 'NULL';
        try {
          const b = t.mm.read(p, 32);
          const h = b.readBigUInt64LE(0);
          const handler = h === 0n ? 'SIG_DFL' : h === 1n ? 'SIG_IGN' : `0x${h.toString(16)}`;
          const flags = Number(b.readBigUInt64LE(8) & 0xffffffffn);
          const maskAddr = p + 24;
          const restorer = flags & 0x4000000 ? `, sa_restorer=0x${b.readBigUInt64LE(16).toString(16)}` : '';
          return `{sa_handler=${handler}, sa_mask=${this.sigset(t, maskAddr)}, sa_flags=${flagNames(flags, SAF)}${restorer}}`;
        } catch {
          return this.hex(a, i);
        }
      }
      case 'clock':
        return CLOCKS[a.i32(i)] ?? String(a.i32(i));
      case 'ts': {
        const p = a.ptr(i);
        if (p === 0) return 'NULL';
        try {
          const b = t.mm.read(p, 16);
          return `{tv_sec=${b.readBigInt64LE(0)}, tv_nsec=${b.readBigInt64LE(8)}}`;
        } catch {
          return this.hex(a, i);
        }
      }
      case 'iovin': {
        const p = a.ptr(i);
        const n = a.i32(i + 1);
        try {
          const parts: string[] = [];
          for (let j = 0; j < Math.min(n, 32); j++) {
            const base = t.mm.u64(p + 16 * j);
            const len = t.mm.u64(p + 16 * j + 8);
            parts.push(`{iov_base=${this.str(t, base, len)}, iov_len=${len}}`);
          }
          return `[${parts.join(', ')}]`;
        } catch {
          return this.hex(a, i);
        }
      }
      case 'prot':
        return a.u32(i) === 0 ? 'PROT_NONE' : flagNames(a.u32(i), PROT);
      case 'mapflags': {
        const f = a.u32(i);
        const type = ['0', 'MAP_SHARED', 'MAP_PRIVATE', 'MAP_SHARED_VALIDATE'][f & 3];
        const rest = flagNames(f & ~0xf, MAPF, '');
        return rest ? `${type}|${rest}` : type;
      }
      case 'wopts':
        return flagNames(a.u32(i), WOPT);
      case 'cloneflags': {
        const f = a.u32(i);
        const sig = f & 0xff;
        const rest = flagNames(f & ~0xff, CLONEF, '');
        return `flags=${[rest, sig ? signalName(sig) : ''].filter(Boolean).join('|') || '0'}`;
      }
      case 'ioctl':
        return IOCTLS[a.u32(i)] ?? `0x${a.u32(i).toString(16)}`;
      case 'fcntl':
        return FCNTL[a.i32(i)] ?? String(a.i32(i));
      case 'whence':
        return ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'][a.i32(i)] ?? String(a.i32(i));
      case 'argv':
      case 'envp': {
        const p = a.ptr(i);
        if (p === 0) return 'NULL';
        try {
          const items: string[] = [];
          for (let j = 0; ; j++) {
            const s = t.mm.u64(p + 8 * j);
            if (s === 0) break;
            items.push(this.cstr(t, s));
          }
          return k === 'argv' ? `[${items.join(', ')}]` : `${this.hex(a, i)} /* ${items.length} vars */`;
        } catch {
          return this.hex(a, i);
        }
      }
      case 'rlimres':
        return RLIM[a.i32(i)] ?? String(a.i32(i));
      case 'rlim': {
        const p = a.ptr(i);
        if (p === 0) return 'NULL';
        try {
          const fmt = (v: bigint): string => (v === 0xffffffffffffffffn ? 'RLIM64_INFINITY' : v % 1024n === 0n && v > 0n ? `${v / 1024n}*1024` : String(v));
          return `{rlim_cur=${fmt(t.mm.big64(p))}, rlim_max=${fmt(t.mm.big64(p + 8))}}`;
        } catch {
          return this.hex(a, i);
        }
      }
      case 'prctl':
        return PRCTL[a.i32(i)] ?? String(a.i32(i));
      case 'archprctl':
        return ARCHP[a.i32(i)] ?? `0x${a.u32(i).toString(16)}`;
      case 'grnd':
        return flagNames(a.u32(i), [[1, 'GRND_NONBLOCK'], [2, 'GRND_RANDOM'], [4, 'GRND_INSECURE']]);
      case 'futexop': {
        const op = a.i32(i);
        return (FUTEX[op & 0x7f] ?? String(op & 0x7f)) + (op & 128 ? '_PRIVATE' : '') + (op & 256 ? '|FUTEX_CLOCK_REALTIME' : '');
      }
      case 'pollfds': {
        const p = a.ptr(i);
        const n = a.u32(i + 1);
        try {
          const parts: string[] = [];
          for (let j = 0; j < Math.min(n, 16); j++) {
            const ev = t.mm.u32(p + 8 * j + 4) & 0xffff;
            parts.push(`{fd=${t.mm.i32(p + 8 * j)}, events=${flagNames(ev, [[1, 'POLLIN'], [2, 'POLLPRI'], [4, 'POLLOUT'], [0x40, 'POLLRDNORM'], [0x100, 'POLLWRNORM']])}}`);
          }
          return `[${parts.join(', ')}]`;
        } catch {
          return this.hex(a, i);
        }
      }
    }
  }

  /** Output arguments, decoded after a successful return (null: same as input). */
  private output(t: Task, k: Kind, a: Args, i: number, ret: number): string | null {
    if (ret < 0 && ret > -4096) return null;
    try {
      switch (k) {
        case 'strout':
          return this.str(t, a.ptr(i), Math.max(0, ret));
        case 'stat': {
          const p = a.ptr(i);
          const x86 = t.arch.name === 'x86_64';
          const mode = t.mm.u32(p + (x86 ? 24 : 16));
          const size = t.mm.i64(p + 48);
          const type: Record<number, string> = { 0o140000: 'S_IFSOCK', 0o120000: 'S_IFLNK', 0o100000: 'S_IFREG', 0o60000: 'S_IFBLK', 0o40000: 'S_IFDIR', 0o20000: 'S_IFCHR', 0o10000: 'S_IFIFO' };
          // strace: the type, then S_ISUID/S_ISGID/S_ISVTX by name, then the permission bits in octal
          const tp = [type[mode & 0o170000] ?? '0', ...([[0o4000, 'S_ISUID'], [0o2000, 'S_ISGID'], [0o1000, 'S_ISVTX']] as Array<[number, string]>).filter(([b]) => mode & b).map(([, n]) => n)].join('|');
          if (tp.startsWith('S_IFCHR') || tp.startsWith('S_IFBLK')) {
            const rdev = t.mm.u64(p + (x86 ? 40 : 32));
            return `{st_mode=${tp}|0${(mode & 0o777).toString(8)}, st_rdev=makedev(0x${((rdev >>> 8) & 0xfff).toString(16)}, 0x${(rdev & 0xff).toString(16)}), ...}`;
          }
          return `{st_mode=${tp}|0${(mode & 0o777).toString(8)}, st_size=${size}, ...}`;
        }
        case 'tsout': {
          const p = a.ptr(i);
          if (p === 0) return 'NULL';
          return `{tv_sec=${t.mm.i64(p)}, tv_nsec=${t.mm.i64(p + 8)}}`;
        }
        case 'fds2': {
          const p = a.ptr(i);
          return `[${this.fd(t, t.mm.i32(p))}, ${this.fd(t, t.mm.i32(p + 4))}]`;
        }
        case 'rlimout':
          return a.ptr(i) === 0 ? 'NULL' : this.input(t, 'rlim', a, i);
        case 'wstatus': {
          const p = a.ptr(i);
          if (p === 0 || ret === 0) return p === 0 ? 'NULL' : null;
          return waitStatus(t.mm.i32(p));
        }
        case 'siginfoout': {
          // waitid: nothing to report (WNOHANG) leaves si_signo 0, which strace shows as {}
          const p = a.ptr(i);
          if (p === 0) return 'NULL';
          const info = t.mm.read(p, 128);
          const sig = info.readInt32LE(0);
          return sig === 0 ? '{}' : `{${siginfoBody(sig, info)}}`;
        }
        default:
          return null;
      }
    } catch {
      return null;
    }
  }
}
