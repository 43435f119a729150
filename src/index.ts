// The library API: a Machine you configure (program, argv, env, options) and run.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { getPriority as osPriority } from 'node:os';
import type { Arch, ArchName } from './cpu/arch.js';
import { x86_64 } from './cpu/x86_64.js';
import { arm64 } from './cpu/arm64.js';
import { ExecFormatError, type ElfImage } from './loader/elf.js';
import { Kernel } from './proc/kernel.js';
import { checkElf, execInto, ExeFile } from './proc/exec.js';
import { Mm } from './proc/process.js';
import { AddressSpace } from './mm/address-space.js';
import { FileSystem, Vfs } from './fs/vfs.js';
import { S_IFDIR } from './abi/stat.js';
import { AT_FDCWD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL } from './abi/fcntl.js';
import { HostFs } from './fs/hostfs.js';
import { TmpFs } from './fs/tmpfs.js';
import { DevFs } from './fs/devfs.js';
import { ProcFs } from './procfs/procfs.js';
import { SysFs } from './procfs/sysfs.js';
import { E, errnoMessage } from './abi/errno.js';
import { fail, SysError } from './abi/errors.js';
import { prepareExec } from './syscalls/handlers/process.js';
import type { ExitState } from './proc/process.js';
import type { Task } from './proc/task.js';
import { HostFile } from './fs/hostfile.js';
import { host } from './host/libc.js';
import { fromHostOpenFlags } from './fs/flags.js';
import { hostRlimits } from './syscalls/handlers/proc.js';
import { Tracer, type TraceOptions } from './syscalls/trace.js';

export { ExecFormatError } from './loader/elf.js';
export { Panic } from './abi/errors.js';
import { Syscalls } from './syscalls/dispatch.js';
export type { MissingRecord } from './syscalls/dispatch.js';
export type { ExitState } from './proc/process.js';

export const ARCHES: Record<ArchName, Arch> = { x86_64, arm64 };
const BY_MACHINE: Record<number, string> = { 62: 'x86_64', 183: 'aarch64' };

function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

export interface MachineOptions {
  /** path of the program (as the guest will see it) */
  program: string;
  /** argv, including argv[0] */
  argv: string[];
  /** environment as NAME=VALUE strings, in order */
  env: string[];
  /** the guest's start directory (a guest path) */
  cwd?: string;
  /** what the guest's file system shows */
  mounts?: MountOptions;
  onMissing?: 'panic' | 'enosys';
  debug?: boolean;
  /** strace-style tracing of the guest's syscalls */
  trace?: TraceOptions;
}

/** The program could not be found (exit 127 from the CLI). */
export class NotFoundError extends Error {}

/**
 * Check that `path` is an ELF elfrun runs, with Linux's errors as one line.
 * Only the headers are read (as exec reads them: checkElf), and the program
 * is exec'd through the guest's file system afterwards.
 */
export function loadProgram(path: string): { elf: ElfImage; arch: Arch } {
  let elf: ElfImage;
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new ExecFormatError('is a directory');
    const file = new ExeFile(fd, st.size);
    fd = -1; // the ExeFile closes it
    try {
      elf = checkElf(file, BY_MACHINE);
    } finally {
      file.close();
    }
  } catch (e) {
    if (e instanceof ExecFormatError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError('No such file or directory');
    if (code === 'EACCES') throw new ExecFormatError('Permission denied');
    throw new ExecFormatError((e as Error).message);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  const arch = elf.machine === 62 ? x86_64 : arm64;
  return { elf, arch };
}

/** A host path made visible in the guest (--bind HOST:GUEST[:ro]). */
export interface BindMount {
  host: string;
  guest: string;
  readonly?: boolean;
}

export interface MountOptions {
  /** a host directory as the guest's `/` (default: the host's `/`) */
  root?: string;
  /** start from an empty in-memory root holding only the program */
  sandbox?: boolean;
  binds?: BindMount[];
  /** guest paths that get an empty in-memory file system */
  tmpfs?: string[];
}

/** A bad --root/--bind/--tmpfs/--cwd: the CLI prints one line. */
export class SetupError extends Error {}

function hostDir(what: string, p: string): string {
  try {
    return realpathSync(p);
  } catch (e) {
    throw new SetupError(`${what} ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
  }
}

/** mkdir -p in an in-memory file system, for mount points of the sandbox. */
function ensureDirs(t: Task, vfs: Vfs, path: string): void {
  let cur = vfs.root;
  for (const name of path.split('/').filter(Boolean)) {
    let next = vfs.tryChild(t, cur, name);
    if (next === null) {
      cur.node.mkdir(t, name, 0o755);
      next = vfs.child(t, cur, name);
    }
    cur = next;
  }
}

/**
 * The host process's umask is 0 while any Machine runs: elfrun applies each
 * guest process's own umask when it creates a host file. The umask belongs
 * to the Node process, so this one counter is shared by all Machines in it:
 * the last one to end puts the host's umask back.
 */
const hostUmask = {
  running: 0,
  saved: 0,
  enter(): void {
    if (this.running++ === 0) this.saved = process.umask(0);
  },
  leave(): void {
    if (--this.running === 0) process.umask(this.saved);
  },
};

export class Machine {
  /** the syscall table and its dispatcher; under --on-missing=enosys, what was missing */
  readonly syscalls = new Syscalls();
  readonly kernel: Kernel;
  readonly task: Task;

  constructor(readonly opts: MachineOptions) {
    const m = opts.mounts ?? {};
    const hostProgram = resolve(process.cwd(), opts.program);
    // a program given by host path must be a readable ELF of ours: one clear line otherwise
    const checked = m.root ? null : loadProgram(hostProgram);
    if (opts.trace) this.syscalls.tracer = new Tracer(opts.trace);
    this.kernel = new Kernel({ onMissing: opts.onMissing ?? 'panic', debug: opts.debug ?? false, hostProcesses: !m.sandbox }, this.syscalls);
    if (opts.debug) SysError.stacks = true;
    const k = this.kernel;
    const rootFs = m.sandbox ? new TmpFs(0o755, k.uid, k.gid) : new HostFs(hostDir('--root', m.root ?? '/'));
    const vfs = (k.vfs = new Vfs(rootFs));
    this.syscalls.beforeCall = () => vfs.lookups.newCall();
    // init starts as an empty process and execs the program, like Linux's init;
    // of the program's arch when it is known here, so that an arm64 run does
    // not also build an x86_64 engine (~5 ms) only to exec out of it
    const boot = checked?.arch ?? x86_64;
    const t = k.createInit(boot, new Mm(k.engine(boot), new AddressSpace(k.engine(boot).mirror(), k.engine(boot).layout, k.memory)), vfs.root, process.umask());
    this.task = t;
    const mount = (path: string, fs: FileSystem, o: { readonly?: boolean; source?: string } = {}): void => {
      try {
        if (m.sandbox) {
          // the in-memory root gets real mount points, so that ls / shows them
          const parent = path.split('/').slice(0, -1).join('/');
          const name = path.split('/').pop()!;
          ensureDirs(t, vfs, parent);
          const dir = vfs.resolve(t, vfs.root, parent || '/', true);
          if (name && vfs.tryChild(t, dir, name) === null) {
            if (fs.root().type === S_IFDIR) dir.node.mkdir(t, name, 0o755);
            else dir.node.create(t, name, 1, 0o644, dir).release();
          }
        }
        vfs.mount(t, path, fs, o);
      } catch (e) {
        if (e instanceof SysError) throw new SetupError(`cannot mount on ${path}: ${errnoMessage(e.errno)}`);
        throw e;
      }
    };
    const sandboxProgram = realpathOr(hostProgram);
    if (m.sandbox) {
      ensureDirs(t, vfs, '/tmp');
      vfs.child(t, vfs.root, 'tmp').node.setattr(t, { mode: 0o1777 });
      mount(sandboxProgram, new HostFs(sandboxProgram), { readonly: true, source: sandboxProgram });
    }
    mount('/proc', new ProcFs(k), { source: 'proc' });
    // the guest's own /sys, read-only as in a container, with an empty cgroup2 hierarchy
    mount('/sys', new SysFs('sysfs'), { readonly: true, source: 'sysfs' });
    mount('/sys/fs/cgroup', new SysFs('cgroup2'), { readonly: true, source: 'cgroup2' });
    mount('/dev', new DevFs(), { source: 'devtmpfs' });
    if (existsSync('/dev/pts')) mount('/dev/pts', new HostFs('/dev/pts'), { source: 'devpts' });
    // shared memory is shared with the host, as for a native program (the sandbox keeps its own)
    if (!m.sandbox && existsSync('/dev/shm')) mount('/dev/shm', new HostFs(realpathOr('/dev/shm')), { source: 'shm' });
    for (const b of m.binds ?? []) mount(b.guest, new HostFs(hostDir('--bind', b.host)), { readonly: b.readonly, source: b.host });
    for (const p of m.tmpfs ?? []) mount(p, new TmpFs(0o1777), { source: 'tmpfs' });
    // the start directory: --cwd, else the host's cwd when the guest sees the host's tree, else /
    const cwdPath = opts.cwd ?? (m.root || m.sandbox ? '/' : process.cwd());
    try {
      t.cwd = vfs.resolve(t, vfs.root, cwdPath, true);
      if (t.cwd.node.type !== S_IFDIR) fail(E.ENOTDIR);
    } catch (e) {
      if (e instanceof SysError) throw new SetupError(`--cwd ${cwdPath}: ${errnoMessage(e.errno)}`);
      throw e;
    }
    const progPath = m.root ? opts.program : m.sandbox ? sandboxProgram : hostProgram;
    let req;
    try {
      req = prepareExec(t, AT_FDCWD, Buffer.from(progPath), opts.argv.map((s) => Buffer.from(s)), opts.env.map((s) => Buffer.from(s)), 0, BY_MACHINE, true);
    } catch (e) {
      if (e instanceof SysError) {
        if (e.errno === E.ENOENT || e.errno === E.ENOTDIR) throw new NotFoundError('No such file or directory');
        throw new ExecFormatError(errnoMessage(e.errno));
      }
      throw e;
    }
    req.args.execfn = Buffer.from(opts.program);
    execInto(k, t, req);
    const p = t.proc;
    p.rlimits = hostRlimits();
    p.nice = osPriority();
    p.comm = basename(opts.program).slice(0, 15);
    p.execed = false;
    t.stopReason = null;
    this.inheritStdio();
  }

  /**
   * The guest gets elfrun's open fds as a native program gets its parent's:
   * 0, 1, 2 and any other fd without FD_CLOEXEC (Node's own fds all have it).
   */
  private inheritStdio(): void {
    const t = this.task;
    const inherited = new Set([0, 1, 2]);
    try {
      for (const name of readdirSync('/proc/self/fd')) {
        const fd = Number(name);
        if (fd > 2 && host.fcntl(fd, F_GETFD, 0) === 0) inherited.add(fd);
      }
    } catch {
      /* no /proc: stdio only */
    }
    const t2 = t;
    for (const fd of inherited) {
      const flags = host.fcntl(fd, F_GETFL, 0);
      if (flags < 0) continue; // closed on the host: closed for the guest
      const dup = host.fcntl(fd, F_DUPFD_CLOEXEC, 3);
      if (dup < 0) continue;
      t2.fds.set(fd, new HostFile(dup, fromHostOpenFlags(t.arch.name, flags), `/proc/self/fd/${fd}`, null, this.kernel.vfs.writers), false);
      t.fds.file(fd).refs--; // set() took its own reference
    }
  }

  async run(): Promise<ExitState> {
    hostUmask.enter();
    try {
      return await this.kernel.run();
    } finally {
      hostUmask.leave();
    }
  }
}
