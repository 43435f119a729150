// The library API: a Machine you configure (program, argv, env, options) and run.
import { closeSync, constants, existsSync, fstatSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { getPriority as osPriority, tmpdir } from 'node:os';
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
import { AT_FDCWD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, O_APPEND, O_RDONLY, O_WRONLY } from './abi/fcntl.js';
import { HostFs } from './fs/hostfs.js';
import { TmpFs } from './fs/tmpfs.js';
import { DevFs } from './fs/devfs.js';
import { ProcFs } from './procfs/procfs.js';
import { SysFs } from './procfs/sysfs.js';
import { E, errnoMessage } from './abi/errno.js';
import { fail, SysError } from './abi/errors.js';
import { prepareExec } from './syscalls/handlers/process.js';
import type { ExitState } from './proc/process.js';
import { NR_OPEN, type Task } from './proc/task.js';
import { RLIMIT_NOFILE } from './abi/resource.js';
import { GdbStub } from './proc/gdb.js';
import { HostFile } from './fs/hostfile.js';
import { host } from './host/libc.js';
import { fromHostOpenFlags } from './fs/flags.js';
import { hostRlimits } from './syscalls/handlers/proc.js';
import { Tracer, type TraceOptions } from './syscalls/trace.js';
import { InjectSyntaxError, injectionHook, parseInjection } from './syscalls/inject.js';

export { ExecFormatError } from './loader/elf.js';
export { Panic } from './abi/errors.js';
export { engineNotice } from './cpu/unicorn.js';
export type { SyscallContext, SyscallHook, SyscallImpl } from './syscalls/hooks.js';
export { E as errno } from './abi/errno.js';
export { SIG as signals } from './abi/signal.js';
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
  /**
   * The guest's network: 'host', the host's (its sockets are host sockets),
   * or 'none', an empty network of its own with only `lo`, where AF_INET and
   * AF_INET6 connect guest processes to each other in elfrun and nothing
   * reaches the host's network or ports. Default: 'host', or 'none' with
   * mounts.sandbox.
   */
  net?: 'host' | 'none';
  onMissing?: 'panic' | 'enosys';
  debug?: boolean;
  /** strace-style tracing of the guest's syscalls */
  trace?: TraceOptions;
  /** fault injection in strace's syntax (`openat:error=ENOENT:when=3+`; see syscalls/inject.ts) */
  inject?: string[];
  /** elfrun-wide caps: guest tasks (processes and threads) at once; EAGAIN at fork/clone past it */
  maxProcs?: number;
  /** the most fds one guest process may have open (its fs.nr_open) */
  maxFds?: number;
  /** bytes of memory all guest processes together may take: private writable and shared anonymous mappings, tmpfs and memfd data, System V segments (ENOMEM past it) */
  maxMemory?: number;
  /** seconds after which every guest process is killed (SIGKILL); `timedOut` then says so */
  timeout?: number;
  /** the host directory core files are written to (default: the dumping process's working directory) */
  coreDir?: string;
  /** HOST:PORT: wait there for gdb (remote protocol) before the first instruction */
  gdb?: string;
  /**
   * The guest's stdin, stdout and stderr: by default the Node process's own.
   * `stdin` as bytes (the guest reads them, then end of file); `stdout` and
   * `stderr` 'buffer': kept, for machine.stdout / machine.stderr after run().
   */
  stdio?: { stdin?: Buffer | string; stdout?: 'inherit' | 'buffer'; stderr?: 'inherit' | 'buffer' };
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

/** What Machine.on tells of, as the kernel does it (before the guest goes on). */
export interface MachineEvents {
  /** a process now runs a program: its first, or by a successful execve */
  exec: { pid: number; tid: number; path: string; argv: string[] };
  /** a task was created: a process (fork, vfork, clone) or a thread (`thread`) */
  clone: { parent: number; tid: number; pid: number; thread: boolean };
  /** a process ended */
  exit: { pid: number; state: ExitState };
  /** a signal is acted on: its handler runs, or its default action is taken */
  signal: { pid: number; tid: number; signal: number; action: 'handler' | 'terminate' | 'core' | 'stop' };
}

type Listeners = { [K in keyof MachineEvents]: Array<(e: MachineEvents[K]) => void> };

export class Machine {
  private readonly listeners: Listeners = { exec: [], clone: [], exit: [], signal: [] };

  /** Be told of exec, clone, exit and signal events; returns a function that stops it. A listener that throws ends the run with its error. */
  on<K extends keyof MachineEvents>(event: K, fn: (e: MachineEvents[K]) => void): () => void {
    const list = this.listeners[event] as Array<(e: MachineEvents[K]) => void>;
    if (list === undefined) throw new Error(`no Machine event ${String(event)} (exec, clone, exit, signal)`);
    list.push(fn);
    const emit = <E extends keyof MachineEvents>(name: E, e: MachineEvents[E]): void => {
      for (const l of [...(this.listeners[name] as Array<(e: MachineEvents[E]) => void>)]) l(e);
    };
    this.kernel.events ??= {
      exec: (t, path, argv) => emit('exec', { pid: t.pid, tid: t.tid, path, argv }),
      clone: (t, child, thread) => emit('clone', { parent: t.tid, tid: child.tid, pid: child.pid, thread }),
      exit: (p, state) => emit('exit', { pid: p.pid, state }),
      signal: (t, sig, action) => emit('signal', { pid: t.pid, tid: t.tid, signal: sig, action }),
    };
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

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
    if (opts.inject?.length) {
      try {
        this.syscalls.on('*', injectionHook(opts.inject.map(parseInjection)));
      } catch (e) {
        if (e instanceof InjectSyntaxError) throw new SetupError(`--inject ${e.message}`);
        throw e;
      }
    }
    for (const [name, v] of [['maxProcs', opts.maxProcs], ['maxFds', opts.maxFds], ['maxMemory', opts.maxMemory], ['timeout', opts.timeout]] as const)
      if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw new SetupError(`${name} must be a positive number`);
    this.kernel = new Kernel(
      {
        onMissing: opts.onMissing ?? 'panic',
        debug: opts.debug ?? false,
        hostProcesses: !m.sandbox,
        net: opts.net ?? (m.sandbox ? 'none' : 'host'),
        maxTasks: opts.maxProcs,
        maxFds: opts.maxFds,
        maxMemory: opts.maxMemory,
        timeoutMs: opts.timeout !== undefined ? opts.timeout * 1000 : undefined,
      },
      this.syscalls,
    );
    if (opts.debug) SysError.stacks = true;
    if (opts.coreDir !== undefined) this.kernel.coreDir = hostDir('--core-dir', opts.coreDir);
    const k = this.kernel;
    const rootFs = m.sandbox ? new TmpFs(0o755, k.uid, k.gid) : new HostFs(hostDir('--root', m.root ?? '/'));
    const vfs = (k.vfs = new Vfs(rootFs));
    if (opts.maxMemory !== undefined) vfs.shmem.room = () => k.commitRoom();
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
    mount('/sys', new SysFs('sysfs', k.net), { readonly: true, source: 'sysfs' });
    mount('/sys/fs/cgroup', new SysFs('cgroup2'), { readonly: true, source: 'cgroup2' });
    mount('/dev', new DevFs(), { source: 'devtmpfs' });
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
    // RLIMIT_NOFILE as the host gave it, within fs.nr_open (and --max-fds)
    const nrOpen = BigInt(Math.min(NR_OPEN, opts.maxFds ?? NR_OPEN));
    const [soft, hard] = p.rlimits[RLIMIT_NOFILE];
    p.rlimits[RLIMIT_NOFILE] = [soft < nrOpen ? soft : nrOpen, hard < nrOpen ? hard : nrOpen];

    p.nice = osPriority();
    p.comm = basename(opts.program).slice(0, 15);
    p.execed = false;
    t.stopReason = null;
    this.inheritStdio();
    this.redirectStdio();
    // after the inherited fds, which a process keeps even above its limit
    t.fds.limit = Number(p.rlimits[RLIMIT_NOFILE][0]);
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

  /** what the guest wrote to stdout and stderr, with stdio 'buffer' (after run()) */
  stdout: Buffer | null = null;
  stderr: Buffer | null = null;
  /** the files behind buffered stdio (a private directory), read and removed when the run ends */
  private stdioDir: string | null = null;

  /** The guest's fds 0-2 on files of bytes the Machine gives or keeps (MachineOptions.stdio). */
  private redirectStdio(): void {
    const o = this.opts.stdio;
    if (o === undefined || (o.stdin === undefined && o.stdout !== 'buffer' && o.stderr !== 'buffer')) return;
    const dir = (this.stdioDir = mkdtempSync(join(tmpdir(), 'elfrun-stdio-')));
    const t = this.task;
    const put = (fd: number, name: string, flags: number, guestFlags: number): void => {
      const hostFd = openSync(join(dir, name), flags, 0o600);
      t.fds.set(fd, new HostFile(hostFd, guestFlags, join(dir, name), null, this.kernel.vfs.writers), false);
      t.fds.file(fd).refs--; // set() took its own reference
    };
    if (o.stdin !== undefined) {
      writeFileSync(join(dir, 'stdin'), o.stdin);
      put(0, 'stdin', constants.O_RDONLY, O_RDONLY);
    }
    if (o.stdout === 'buffer') put(1, 'stdout', constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, O_WRONLY | O_APPEND);
    if (o.stderr === 'buffer') put(2, 'stderr', constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, O_WRONLY | O_APPEND);
  }

  private collectStdio(): void {
    const dir = this.stdioDir;
    if (dir === null) return;
    const o = this.opts.stdio!;
    if (o.stdout === 'buffer') this.stdout = readFileSync(join(dir, 'stdout'));
    if (o.stderr === 'buffer') this.stderr = readFileSync(join(dir, 'stderr'));
    rmSync(dir, { recursive: true, force: true });
    this.stdioDir = null;
  }

  /** the run ended because its timeout passed */
  get timedOut(): boolean {
    return this.kernel.timedOut;
  }

  async run(): Promise<ExitState> {
    if (this.opts.gdb !== undefined) {
      const m = /^(.*):(\d+)$/.exec(this.opts.gdb);
      if (m === null || Number(m[2]) > 65535) throw new SetupError(`--gdb ${this.opts.gdb}: not HOST:PORT`);
      let stub: GdbStub;
      try {
        stub = await GdbStub.listen(m[1] || '127.0.0.1', Number(m[2]));
      } catch (e) {
        throw new SetupError(`--gdb ${this.opts.gdb}: ${(e as Error).message}`);
      }
      stub.attach(this.kernel);
      this.kernel.gdb = stub;
    }
    // the first program was exec'd before anyone could listen: it is told of now
    if (this.listeners.exec.length > 0) this.kernel.events?.exec(this.task, this.task.proc.exePath, this.opts.argv);
    hostUmask.enter();
    try {
      return await this.kernel.run();
    } finally {
      hostUmask.leave();
      this.collectStdio();
    }
  }
}
