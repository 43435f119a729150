// The library API: a Machine you configure (program, argv, env, options) and run.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Arch, ArchName } from './cpu/arch.js';
import { x86_64 } from './cpu/x86_64.js';
import { arm64 } from './cpu/arm64.js';
import { ExecFormatError, type ElfImage } from './loader/elf.js';
import { Kernel } from './proc/kernel.js';
import { buildMm, checkElf } from './proc/exec.js';
import type { ExitState } from './proc/process.js';
import type { Task } from './proc/task.js';
import { HostFile } from './fs/file.js';
import { host } from './host/libc.js';
import { fromHostOpenFlags } from './fs/flags.js';
import { hostRlimits } from './syscalls/handlers/proc.js';
import { Tracer, type TraceOptions } from './syscalls/trace.js';

export { ExecFormatError } from './loader/elf.js';
export { Panic, missing } from './syscalls/dispatch.js';
export type { ExitState } from './proc/process.js';

export const ARCHES: Record<ArchName, Arch> = { x86_64, arm64 };
const BY_MACHINE: Record<number, string> = { 62: 'x86_64', 183: 'aarch64' };

export interface MachineOptions {
  /** path of the program (as the guest will see it) */
  program: string;
  /** argv, including argv[0] */
  argv: string[];
  /** environment as NAME=VALUE strings, in order */
  env: string[];
  cwd?: string;
  onMissing?: 'panic' | 'enosys';
  debug?: boolean;
  /** strace-style tracing of the guest's syscalls */
  trace?: TraceOptions;
}

/** The program could not be found (exit 127 from the CLI). */
export class NotFoundError extends Error {}

export function loadProgram(path: string): { file: Buffer; elf: ElfImage; arch: Arch } {
  let file: Buffer;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new ExecFormatError('is a directory');
    file = readFileSync(path);
  } catch (e) {
    if (e instanceof ExecFormatError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError('No such file or directory');
    if (code === 'EACCES') throw new ExecFormatError('Permission denied');
    throw new ExecFormatError((e as Error).message);
  }
  const elf = checkElf(file, BY_MACHINE);
  const arch = elf.machine === 62 ? x86_64 : arm64;
  return { file, elf, arch };
}

export class Machine {
  readonly kernel: Kernel;
  readonly task: Task;

  constructor(readonly opts: MachineOptions) {
    const { file, elf, arch } = loadProgram(opts.program);
    const cwd = opts.cwd ?? process.cwd();
    const exe = realpathSync(resolve(cwd, opts.program));
    let dev = 0;
    let ino = 0;
    let fileKey: string | null = null;
    try {
      const st = statSync(exe);
      dev = st.dev;
      ino = st.ino;
      fileKey = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      /* identity is cosmetic (maps) */
    }
    const args = {
      argv: opts.argv.map((s) => Buffer.from(s)),
      envp: opts.env.map((s) => Buffer.from(s)),
      execfn: Buffer.from(opts.program),
      mapName: exe,
      dev,
      ino,
      uid: process.getuid!(),
      gid: process.getgid!(),
      fileKey,
    };
    this.kernel = new Kernel({ onMissing: opts.onMissing ?? 'panic', debug: opts.debug ?? false });
    if (opts.trace) this.kernel.setTracer(new Tracer(opts.trace));
    const { mm, start, sigtramp, regs } = buildMm(this.kernel.engine(arch), elf, file, args);
    const t = this.kernel.createInit(arch, mm, cwd, process.umask());
    t.pendingRegs = regs;
    this.task = t;
    const p = t.proc;
    p.rlimits = hostRlimits();
    p.exePath = exe;
    p.comm = basename(opts.program).slice(0, 15);
    p.start = start;
    p.sigtramp = sigtramp;
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
        if (fd > 2 && host.fcntl(fd, 1 /* F_GETFD */, 0) === 0) inherited.add(fd);
      }
    } catch {
      /* no /proc: stdio only */
    }
    for (const fd of inherited) {
      const flags = host.fcntl(fd, 3 /* F_GETFL */, 0);
      if (flags < 0) continue; // closed on the host: closed for the guest
      const dup = host.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 3);
      if (dup < 0) continue;
      t.fds.set(fd, new HostFile(dup, fromHostOpenFlags(t.arch.name, flags), `/proc/self/fd/${fd}`), false);
      t.fds.file(fd).refs--; // set() took its own reference
    }
  }

  async run(): Promise<ExitState> {
    const old = process.umask(0);
    try {
      return await this.kernel.run();
    } finally {
      process.umask(old);
    }
  }
}
