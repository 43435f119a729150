// Processes: clone/fork/vfork, execve, exit, wait, kill, process groups and
// sessions, sigreturn/sigsuspend/pause, pipes, sleeping.
import { TIMER_ABSTIME } from '../../abi/time.js';
import { cpuNanosleep, nanosleepClock } from './timers.js';
import { fileId, statFields } from '../../fs/stat.js';
import type { Task } from '../../proc/task.js';
import { PidFd } from '../../proc/pidfd.js';
import type { Arch } from '../../cpu/arch.js';
import { waitStatus, type Process } from '../../proc/process.js';
import { doClone } from '../../proc/fork.js';
import { CLONE } from '../../abi/sched.js';
import { checkElf, execInto, ExeFile, type ExecRequest, type Interp } from '../../proc/exec.js';
import { isElfrun, nestedRun } from '../../proc/nested.js';
import { rusageBytes } from './proc.js';
import { type Loc } from '../../fs/vfs.js';
import { S_IFLNK, S_IFREG, X_OK } from '../../abi/stat.js';
import { x86_64 } from '../../cpu/x86_64.js';
import { arm64 } from '../../cpu/arm64.js';
import { SIG, NSIG, SI_TKILL, bit } from '../../abi/signal.js';
import { P_ALL, P_PGID, P_PID, P_PIDFD, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WUNTRACED, __WALL, __WCLONE, __WNOTHREAD } from '../../abi/wait.js';
import { ExecFormatError } from '../../loader/elf.js';
import { makePipe } from '../../fs/pipe.js';
import { OPEN_FLAGS } from '../../fs/flags.js';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  F_DUPFD_CLOEXEC,
  O_CLOEXEC,
  O_NONBLOCK,
  O_NOTIFICATION_PIPE,
  O_RDONLY,
} from '../../abi/fcntl.js';
import { PROT_WRITE } from '../../abi/mman.js';
import { host, hostProc } from '../../host/libc.js';
import { E, errnoMessage } from '../../abi/errno.js';
import { fail, SysError } from '../../abi/errors.js';
import { NORETURN } from '../../cpu/args.js';
import type { Args } from '../../cpu/args.js';
import { chk, lookupAt, partial, pathArg, probe, supported, timeDeadline, type Def } from './util.js';
import { nowMs } from '../../host/clock.js';

const ARCH_BY_MACHINE: Record<number, Arch> = { [x86_64.elfMachine]: x86_64, [arm64.elfMachine]: arm64 };
const ALL_MACHINES: Record<number, string> = { [x86_64.elfMachine]: x86_64.name, [arm64.elfMachine]: arm64.name };

// ---- execve ------------------------------------------------------------------------

const MAX_ARG_STRLEN = 131072;
const ARG_MAX = 2 * 1024 * 1024;

function stringArray(t: Task, addr: number, total: { n: number }): Buffer[] {
  const out: Buffer[] = [];
  if (addr === 0) return out;
  for (let i = 0; ; i++) {
    const p = t.mm.u64(addr + 8 * i);
    if (p === 0) break;
    let s: Buffer;
    try {
      s = t.mm.cstring(p, MAX_ARG_STRLEN);
    } catch (e) {
      if (e instanceof Error && 'errno' in e && (e as { errno: number }).errno === E.ENAMETOOLONG) fail(E.E2BIG);
      throw e;
    }
    total.n += s.length + 1 + 8;
    if (total.n > ARG_MAX) fail(E.E2BIG);
    out.push(s);
  }
  return out;
}

/** An executable's bytes and identity, opened through the VFS, with execve's errors (EACCES...). */
function readExecutable(t: Task, loc: Loc): { file: ExeFile; key: string; dev: number; ino: number } {
  if (loc.node.type !== S_IFREG) fail(E.EACCES);
  // nothing runs from a noexec mount
  if (loc.mnt.opts.noexec === true) fail(E.EACCES);
  loc.node.access(t, X_OK);
  const st = statFields(loc.node.stat(t));
  const dev = Number(st.dev);
  const ino = Number(st.ino);
  // a file open for writing cannot run (deny_write_access)
  if (t.vfs.writers.has(fileId(st))) fail(E.ETXTBSY);
  const size = st.size;
  const key = `${loc.mnt.id}:${dev}:${ino}:${size}:${st.mtime.sec}.${st.mtime.nsec}`;
  let file = t.kernel.exeCache.get(key);
  if (file === undefined) {
    const f = loc.node.open(t, O_RDONLY, loc);
    try {
      file = new ExeFile(f.hostFd >= 0 ? chk(host.fcntl(f.hostFd, F_DUPFD_CLOEXEC, 0)) : -1, size);
    } finally {
      f.release();
    }
    t.kernel.exeCache.add(key, file);
  }
  return { file, key, dev, ino };
}

/**
 * Everything execve needs before its point of no return: the program found
 * in the guest's tree (following '#!' lines), read and parsed for `machines`.
 */
export function prepareExec(t: Task, dirfd: number, path: Buffer, argv: Buffer[], envp: Buffer[], flags: number, machines: Record<number, string>, boot = false): ExecRequest & { loc: Loc } {
  const execfn = path;
  let loc = lookupAt(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
  if (flags & AT_SYMLINK_NOFOLLOW && loc.node.type === S_IFLNK) fail(E.ELOOP);
  if (!boot && isElfrun(t, loc)) {
    // the guest runs elfrun: run the program it names, here (any arch elfrun runs)
    const n = nestedRun(argv, envp);
    return prepareExec(t, AT_FDCWD, n.path, n.argv, n.envp, 0, ALL_MACHINES);
  }
  let img = readExecutable(t, loc);
  // '#!' scripts: the interpreter runs with [interp, optional arg, script path, argv[1..]]
  for (let depth = 0; img.file.head.length >= 2 && img.file.head[0] === 0x23 && img.file.head[1] === 0x21; depth++) {
    if (depth >= 4) fail(E.ELOOP);
    const line = img.file.head.subarray(2, Math.min(img.file.head.length, 256)).toString('latin1').split('\n')[0].replace(/^[ \t]+/, '');
    const m = /^(\S+)(?:[ \t]+(.*?))?[ \t]*$/.exec(line);
    if (!m) fail(E.ENOEXEC);
    const interp = Buffer.from(m[1], 'latin1');
    argv = [interp, ...(m[2] ? [Buffer.from(m[2], 'latin1')] : []), path, ...argv.slice(1)];
    path = interp;
    loc = lookupAt(t, AT_FDCWD, path, true);
    img = readExecutable(t, loc);
  }
  let elf;
  try {
    elf = checkElf(img.file, machines);
  } catch (e) {
    if (boot) throw e; // the first program: the caller words the refusal
    if (e instanceof ExecFormatError) fail(E.ENOEXEC);
    throw e;
  }
  const arch = ARCH_BY_MACHINE[elf.machine];
  // a dynamically linked program: its interpreter (ld.so) comes from the guest's tree
  let interp: Interp | undefined;
  if (elf.interp !== null) {
    try {
      const iloc = lookupAt(t, AT_FDCWD, Buffer.from(elf.interp, 'latin1'), true);
      const iimg = readExecutable(t, iloc);
      let ielf;
      try {
        ielf = checkElf(iimg.file, { [elf.machine]: arch.name });
      } catch (e) {
        if (e instanceof ExecFormatError) fail(E.ELIBBAD);
        throw e;
      }
      if (ielf.interp !== null) fail(E.ELIBBAD);
      interp = { elf: ielf, file: iimg.file, path: iloc.path, dev: iimg.dev, ino: iimg.ino, fileKey: iimg.key };
    } catch (e) {
      // the first program: one line naming the interpreter
      if (boot && e instanceof SysError) throw new ExecFormatError(`interpreter ${elf.interp}: ${errnoMessage(e.errno)}`);
      throw e;
    }
  }
  return {
    arch,
    elf,
    file: img.file,
    exePath: loc.path,
    exe: loc,
    loc,
    interp,
    args: { argv, envp, execfn, mapName: loc.path, dev: img.dev, ino: img.ino, uid: t.proc.cred.ruid, gid: t.proc.cred.rgid, fileKey: img.key },
  };
}

function execve(t: Task, dirfd: number, pathAddr: number, argvAddr: number, envpAddr: number, flags: number): number {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) fail(E.EINVAL);
  const path = pathArg(t, pathAddr);
  const total = { n: 0 };
  const argv = stringArray(t, argvAddr, total);
  const envp = stringArray(t, envpAddr, total);
  // either arch elfrun runs: a guest's exec of a program of the other arch runs it
  // emulated too, as binfmt_misc with qemu-user would (and as qemu-user's own exec does)
  const req = prepareExec(t, dirfd, path, argv, envp, flags, ALL_MACHINES);
  try {
    execInto(t.kernel, t, req);
  } catch (e) {
    if (!(e instanceof ExecFormatError)) throw e;
    // an image that parses but cannot be laid out (its entry point or a segment
    // outside the user address space): Linux finds that past the point of no
    // return, and bprm_execve kills the process with SIGSEGV
    t.kernel.exitGroup(t.proc, { kind: 'signaled', signal: SIG.SIGSEGV });
  }
  return NORETURN;
}

// ---- exit and wait -------------------------------------------------------------------

function matches(t: Task, c: Process, idtype: 'pid' | 'pgid' | 'all', id: number, options: number): boolean {
  if (idtype === 'pid' && c.pid !== id) return false;
  if (idtype === 'pgid' && c.pgid !== id) return false;
  if (options & __WALL) return true;
  const isClone = c.exitSignal !== SIG.SIGCHLD;
  return options & __WCLONE ? isClone : !isClone;
}

interface ChildEvent {
  c: Process;
  /** ended, stopped by a signal (WUNTRACED/WSTOPPED), or continued (WCONTINUED) */
  what: 'exit' | { stopped: number } | 'continued';
}

/** Find a child to report; null if none yet (block unless WNOHANG); NO_CHILD if none can ever match. */
function waitChild(t: Task, idtype: 'pid' | 'pgid' | 'all', id: number, options: number, exited = true): ChildEvent | null | typeof NO_CHILD {
  let any = false;
  for (const c of t.proc.children) {
    if (!matches(t, c, idtype, id, options)) continue;
    any = true;
    if (c.exit !== null) {
      if (exited && !c.reaped) return { c, what: 'exit' };
      continue;
    }
    if (options & WUNTRACED && c.stopReport !== null) return { c, what: { stopped: c.stopReport } };
    if (options & WCONTINUED && c.contReport) return { c, what: 'continued' };
  }
  if (!any) return NO_CHILD;
  return null;
}

/** waitChild's answer when no child can ever match: ECHILD, returned, not thrown, as a shell's every wait4 ends in it. */
const NO_CHILD = 'none';

/** The report is consumed (unless WNOWAIT): a stop or continue is reported once. */
function consume(t: Task, e: ChildEvent): void {
  if (e.what === 'exit') t.kernel.reap(e.c);
  else if (e.what === 'continued') e.c.contReport = false;
  else e.c.stopReport = null;
}

function wait4(t: Task, pid: number, statusAddr: number, options: number, rusage: number): number {
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) fail(E.EINVAL);
  const [idtype, id] = pid > 0 ? (['pid', pid] as const) : pid === 0 ? (['pgid', t.proc.pgid] as const) : pid === -1 ? (['all', 0] as const) : (['pgid', -pid] as const);
  const e = waitChild(t, idtype, id, options);
  if (e === NO_CHILD) return -E.ECHILD;
  if (e === null) {
    if (options & WNOHANG) return 0;
    t.block([t.proc.childEvents]);
  }
  // a stop is (sig << 8) | 0x7f, a continue 0xffff
  const status = e.what === 'exit' ? waitStatus(e.c.exit!) : e.what === 'continued' ? 0xffff : (e.what.stopped << 8) | 0x7f;
  if (statusAddr !== 0) t.mm.setI32(statusAddr, status);
  if (rusage !== 0) t.mm.write(rusage, rusageBytes(e.c.utimeMs + e.c.childrenUtimeMs, e.c.stimeMs + e.c.childrenStimeMs));
  consume(t, e);
  return e.c.pid;
}

function waitid(t: Task, idtypeArg: number, id: number, infop: number, options: number, rusage: number): number {
  if (options & ~(WNOHANG | WEXITED | WUNTRACED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE)) fail(E.EINVAL);
  if (!(options & (WEXITED | WUNTRACED | WCONTINUED))) fail(E.EINVAL);
  let idtype: 'all' | 'pid' | 'pgid' | null = idtypeArg === P_ALL ? 'all' : idtypeArg === P_PID ? 'pid' : idtypeArg === P_PGID ? 'pgid' : null;
  // P_PIDFD: the pidfd's process; a PIDFD_NONBLOCK pidfd waits as WNOHANG, but says EAGAIN
  let nonblock = false;
  if (idtypeArg === P_PIDFD) {
    if (id < 0) fail(E.EINVAL);
    const f = t.fds.file(id);
    if (!(f instanceof PidFd)) fail(E.EBADF);
    idtype = 'pid';
    // a PIDFD_THREAD pidfd waits for the thread's id: only a child's leader is a child
    id = f.task?.tid ?? f.proc.pid;
    nonblock = (f.flags & O_NONBLOCK) !== 0;
  }
  if (idtype === null) fail(E.EINVAL);
  if (idtype === 'pid' && id <= 0) fail(E.EINVAL);
  const e = waitChild(t, idtype, idtype === 'pgid' && id === 0 ? t.proc.pgid : id, options, (options & WEXITED) !== 0);
  if (e === NO_CHILD) return -E.ECHILD;
  if (e === null) {
    if (nonblock && !(options & WNOHANG)) fail(E.EAGAIN);
    if (options & WNOHANG || nonblock) {
      if (infop !== 0) t.mm.write(infop, Buffer.alloc(128));
      return 0;
    }
    t.block([t.proc.childEvents]);
  }
  // waitid: si_signo is always SIGCHLD
  if (infop !== 0) t.mm.write(infop, t.kernel.childInfo(e.c, SIG.SIGCHLD, e.what === 'exit' ? null : e.what));
  if (rusage !== 0) t.mm.write(rusage, rusageBytes(e.c.utimeMs + e.c.childrenUtimeMs, e.c.stimeMs + e.c.childrenStimeMs));
  if (!(options & WNOWAIT)) consume(t, e);
  return 0;
}

// ---- signals to others ------------------------------------------------------------------

function kill(t: Task, pid: number, sig: number): number {
  if (sig < 0 || sig > NSIG) fail(E.EINVAL);
  const k = t.kernel;
  const info = k.userInfo(sig, t.pid);
  const targets: Process[] = [];
  if (pid > 0) {
    const p = k.processes.get(pid) ?? k.tasks.get(pid)?.proc;
    if (!p) {
      // one of the host's other processes: the host delivers it (its permission checks apply)
      if (k.isHostPid(pid)) return chk(hostProc.kill(pid, sig));
      fail(E.ESRCH);
    }
    targets.push(p);
  } else {
    const pg = pid === 0 ? t.proc.pgid : pid === -1 ? null : -pid;
    for (const p of k.processes.values()) {
      if (pg === null ? p !== k.init && p !== t.proc : p.pgid === pg) targets.push(p);
    }
    if (targets.length === 0) fail(E.ESRCH);
  }
  for (const p of targets) if (p.exit === null) k.sendToProcess(p, sig, info);
  return 0;
}

function tgkill(t: Task, tgid: number, tid: number, sig: number): number {
  if (sig < 0 || sig > NSIG || tid <= 0 || (tgid !== -1 && tgid <= 0)) fail(E.EINVAL);
  const target = t.kernel.tasks.get(tid);
  if (!target && t.kernel.isHostPid(tid)) return chk(tgid === -1 ? hostProc.kill(tid, sig) : hostProc.tgkill(tgid, tid, sig));
  if (!target || target.state === 'dead' || (tgid !== -1 && target.proc.pid !== tgid)) fail(E.ESRCH);
  const info = t.kernel.userInfo(sig, t.pid);
  info.writeInt32LE(SI_TKILL, 8);
  t.kernel.sendToTask(target, sig, info);
  return 0;
}

// ---- process groups and sessions ----------------------------------------------------

/**
 * The process of an id, as Linux's find_task_by_vpid: an unreaped process
 * (a zombie too), or the process of one of its threads (`thread`: the id
 * was a thread's, not the process's); ESRCH for none.
 */
function findTask(t: Task, pid: number): { p: Process; thread: boolean } {
  if (pid === 0) return { p: t.proc, thread: false };
  const p = t.kernel.processes.get(pid);
  if (p) return { p, thread: false };
  const task = pid > 0 ? t.kernel.tasks.get(pid) : undefined;
  if (!task) fail(E.ESRCH);
  return { p: task.proc, thread: true };
}

/** Linux's setpgid, its checks in its order. */
function setpgid(t: Task, pid: number, pgid: number): number {
  const self = t.proc;
  if (pid === 0) pid = self.pid;
  if (pgid === 0) pgid = pid;
  if (pgid < 0) fail(E.EINVAL);
  const { p, thread } = findTask(t, pid);
  if (thread) fail(E.EINVAL);
  if (p.parent === self && !p.adopted) {
    if (p.sid !== self.sid) fail(E.EPERM);
    if (p.execed) fail(E.EACCES);
  } else if (p !== self) fail(E.ESRCH);
  if (p.leader) fail(E.EPERM);
  if (pgid !== pid) {
    // the group must exist in the caller's session: a zombie member is a member
    let ok = false;
    for (const q of t.kernel.processes.values()) {
      if (q.pgid === pgid) {
        ok = q.sid === self.sid;
        break;
      }
    }
    if (!ok) fail(E.EPERM);
  }
  p.pgid = pgid;
  return 0;
}

/** Linux's setsid: EPERM for a session leader, or while a group (zombies too) has the caller's id; the new session has no terminal. */
function setsid(t: Task): number {
  const p = t.proc;
  if (p.leader) fail(E.EPERM);
  for (const q of t.kernel.processes.values()) if (q.pgid === p.pid) fail(E.EPERM);
  p.leader = true;
  p.sid = p.pid;
  p.pgid = p.pid;
  p.ctty = null;
  p.ttyOldPgrp = null;
  return p.pid;
}

// ---- waiting for signals -------------------------------------------------------------------

function rtSigsuspend(t: Task, maskAddr: number, size: number): number {
  if (size !== 8) fail(E.EINVAL);
  if (!t.restarting) {
    const mask = t.mm.big64(maskAddr);
    t.savedMask = t.sigmask;
    t.sigmask = mask & ~(bit(SIG.SIGKILL) | bit(SIG.SIGSTOP));
  }
  t.block([], { restart: 'nohand' });
}

// ---- pipes ------------------------------------------------------------------------------

function pipe2(t: Task, fdsAddr: number, flags: number): number {
  const direct = OPEN_FLAGS[t.arch.name].O_DIRECT;
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | direct | O_NOTIFICATION_PIPE)) fail(E.EINVAL);
  // no watch queues: Linux built without CONFIG_WATCH_QUEUE answers so
  if (flags & O_NOTIFICATION_PIPE) fail(E.ENOPKG);
  t.mm.check(fdsAddr, 8, PROT_WRITE);
  const [r, w] = makePipe(flags & (O_NONBLOCK | direct), t.vfs.anonIno('pipe'), direct);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  let rfd = -1;
  try {
    rfd = t.fds.add(r, cloexec);
    const wfd = t.fds.add(w, cloexec);
    const b = Buffer.alloc(8);
    b.writeInt32LE(rfd, 0);
    b.writeInt32LE(wfd, 4);
    t.mm.write(fdsAddr, b);
  } catch (e) {
    if (rfd >= 0) t.fds.close(rfd);
    else r.release();
    w.release();
    throw e;
  }
  return 0;
}

// ---- sleeping -----------------------------------------------------------------------------

/**
 * nanosleep, clock_nanosleep: a relative sleep interrupted by a handler
 * fails with EINTR and writes the time left to rem; otherwise (a stop and
 * continue) it resumes, through restart_syscall, for what is left. An
 * absolute sleep is ERESTARTNOHAND and leaves rem alone.
 */
function nanosleep(t: Task, reqAddr: number, remAddr: number, clock: 'rel' | 'abs-mono' | 'abs-real'): number {
  // a NULL request is a bad pointer here (timeDeadline reads NULL as "no timeout", as poll's do)
  if (reqAddr === 0) fail(E.EFAULT);
  if (!t.restarting) t.restartState = timeDeadline(t, reqAddr, clock);
  const deadline = t.restartState!;
  const left = deadline - nowMs();
  if (left <= 0) return 0;
  if (clock !== 'rel') t.block([], { deadline, restart: 'nohand' });
  t.block([], { deadline, restart: 'block', onInterrupt: () => writeLeft(t, remAddr, deadline) });
}

/** rem of an interrupted sleep, the time left until deadline: EINTR, or EFAULT if rem cannot be written (nanosleep_copyout). */
function writeLeft(t: Task, addr: number, deadline: number): number {
  if (addr === 0) return -E.EINTR;
  const ns = Math.max(0, Math.round((deadline - nowMs()) * 1e6));
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(Math.floor(ns / 1e9)), 0);
  b.writeBigInt64LE(BigInt(ns % 1e9), 8);
  try {
    t.mm.write(addr, b);
  } catch {
    return -E.EFAULT;
  }
  return -E.EINTR;
}

// ---- the table entries --------------------------------------------------------------------

const EXEC_NOTE =
  "static and dynamically linked ELF programs (the interpreter from the guest's tree) and #! scripts; " +
  'ETXTBSY for a file the guest has open for writing (while a description is open: a shared writable mapping left after close is not counted)';

export const processDefs: Record<string, Def> = {
  // (strace decodes struct clone_args in full; it is only probed here, and shown by its address)
  fork: supported([], (t) => doClone(t.kernel, t, { flags: SIG.SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0 })),
  vfork: supported([], (t) => doClone(t.kernel, t, { flags: CLONE.VM | CLONE.VFORK | SIG.SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0 })),
  execve: supported(['path', 'argv', 'envp'], (t, a) => execve(t, AT_FDCWD, a.ptr(0), a.ptr(1), a.ptr(2), 0), EXEC_NOTE),
  execveat: supported(['dirfd', 'path', 'argv', 'envp', 'atflags'], (t, a) => execve(t, a.i32(0), a.ptr(1), a.ptr(2), a.ptr(3), a.i32(4)), EXEC_NOTE),
  exit: supported(['int'], (t, a) => {
    t.kernel.exitThread(t, a.i32(0) & 0xff);
    return NORETURN;
  }),
  exit_group: supported(['int'], (t, a) => {
    t.kernel.exitGroup(t.proc, { kind: 'exited', code: a.i32(0) & 0xff });
    return NORETURN;
  }),
  wait4: partial(['int', 'wstatus', 'wopts', 'ptr'], (t, a) => wait4(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3)), 'rusage: user and system time; memory and fault counts are 0 (see getrusage)'),
  waitid: partial(['idtype', 'int', 'siginfoout', 'wopts', 'ptr'], (t, a) => waitid(t, a.i32(0), a.i32(1), a.ptr(2), a.i32(3), a.ptr(4)), 'rusage: user and system time; memory and fault counts are 0 (see getrusage)'),
  kill: partial(['int', 'sig'], (t, a) => kill(t, a.i32(0), a.i32(1)), "a host process's pid reaches it through the host; pid -1 and process groups reach guest processes only"),
  tgkill: supported(['int', 'int', 'sig'], (t, a) => tgkill(t, a.i32(0), a.i32(1), a.i32(2))),
  tkill: supported(['int', 'sig'], (t, a) => tgkill(t, -1, a.i32(0), a.i32(1))),
  getpgid: supported(['int'], (t, a) => (t.kernel.isHostPid(a.i32(0)) ? chk(hostProc.getpgid(a.i32(0))) : findTask(t, a.i32(0)).p.pgid)),
  getpgrp: supported([], (t) => t.proc.pgid),
  setpgid: supported(['int', 'int'], (t, a) => setpgid(t, a.i32(0), a.i32(1))),
  getsid: supported(['int'], (t, a) => (t.kernel.isHostPid(a.i32(0)) ? chk(hostProc.getsid(a.i32(0))) : findTask(t, a.i32(0)).p.sid)),
  setsid: supported([], (t) => setsid(t)),
  rt_sigreturn: supported([], (t) => {
    // Registers are restored once the engine has stopped: Unicorn's x86 syscall
    // helper adds the instruction length to whatever rip a hook writes.
    t.stopReason = 'sigreturn';
    return NORETURN;
  }),
  rt_sigsuspend: supported(['sigset', 'size'], (t, a) => rtSigsuspend(t, a.ptr(0), a.u64(1))),
  pause: supported([], (t) => t.block([], { restart: 'nohand' })),
  pipe2: partial(['fds2', 'statusflags'], (t, a) => pipe2(t, a.ptr(0), a.i32(1)), 'O_DIRECT (packet mode) as Linux\'s, for pipes (F_SETFL\'s O_DIRECT on a FIFO does not make it write packets); O_NOTIFICATION_PIPE gives ENOPKG, as a kernel built without watch queues (CONFIG_WATCH_QUEUE) answers'),
  pipe: supported(['fds2'], (t, a) => pipe2(t, a.ptr(0), 0)),
  nanosleep: supported(['ts', 'sleeprem'], (t, a) => nanosleep(t, a.ptr(0), a.ptr(1), 'rel')),
  clock_nanosleep: partial(['clock', 'timerflags', 'ts', 'sleeprem'], (t, a) => {
    const id = a.i32(0);
    const abs = (a.i32(1) & TIMER_ABSTIME) !== 0;
    // CPU-time clocks sleep until the process (or thread) has run that long
    const cpu = nanosleepClock(t, id);
    if (cpu !== null) return cpuNanosleep(t, cpu, abs, a.ptr(2), a.ptr(3));
    return nanosleep(t, a.ptr(2), a.ptr(3), !abs ? 'rel' : id === 0 || id === 11 || id === 8 ? 'abs-real' : 'abs-mono');
  }, 'every clock that sleeps on Linux; an absolute CLOCK_REALTIME sleep does not follow a change of the host\'s clock; CPU-time sleeps end at most a time slice late'),
};
