// The library API: a Machine you configure (program, argv, env, options) and run.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Arch, ArchName } from './cpu/arch.js';
import { x86_64, setX86Hwcap } from './cpu/x86_64.js';
import { arm64 } from './cpu/arm64.js';
import { parseElf, ExecFormatError, type ElfImage } from './loader/elf.js';
import { mapImage, setupStack } from './loader/load.js';
import { Task, type ExitState } from './proc/task.js';
import { syscallTable } from './syscalls/table.js';
import { HostFile } from './fs/file.js';
import { host } from './host/libc.js';
import { fromHostOpenFlags } from './fs/flags.js';
import { hostRlimits } from './syscalls/handlers/proc.js';

export { ExecFormatError } from './loader/elf.js';
export { Panic, missing } from './syscalls/dispatch.js';
export type { ExitState } from './proc/task.js';

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
  const elf = parseElf(file, BY_MACHINE);
  if (elf.interp !== null)
    throw new ExecFormatError(`dynamically linked programs are not supported yet (interpreter ${elf.interp})`);
  const arch = elf.machine === 62 ? x86_64 : arm64;
  return { file, elf, arch };
}

export class Machine {
  readonly task: Task;

  constructor(readonly opts: MachineOptions) {
    const { file, elf, arch } = loadProgram(opts.program);
    const cwd = opts.cwd ?? process.cwd();
    const t = new Task(arch, syscallTable(arch.name), { onMissing: opts.onMissing ?? 'panic', debug: opts.debug ?? false }, process.pid, process.ppid, cwd);
    this.task = t;
    try {
      if (arch.name === 'x86_64') setX86Hwcap(t.cpu.cpuid(1)[3]);
      t.rlimits = hostRlimits();
      const exe = realpathSync(resolve(cwd, opts.program));
      let dev = 0;
      let ino = 0;
      try {
        const st = statSync(exe);
        dev = st.dev;
        ino = st.ino;
      } catch {
        /* identity is cosmetic (maps) */
      }
      t.exePath = exe;
      t.comm = basename(opts.program).slice(0, 15);
      const args = {
        argv: opts.argv.map((s) => Buffer.from(s)),
        envp: opts.env.map((s) => Buffer.from(s)),
        execfn: Buffer.from(opts.program),
        mapName: exe,
        dev,
        ino,
        uid: process.getuid!(),
        gid: process.getgid!(),
      };
      const bias = mapImage(t.mm, elf, file, args);
      const start = setupStack(t.mm, arch, elf, bias, args);
      t.start = start;
      t.cpu.setRegs([...arch.entryRegs, [arch.spReg, start.sp], [arch.pcReg, start.entry]]);
      this.inheritStdio();
    } catch (e) {
      t.destroy();
      throw e;
    }
  }

  private inheritStdio(): void {
    const t = this.task;
    for (const fd of [0, 1, 2]) {
      const flags = host.fcntl(fd, 3 /* F_GETFL */, 0);
      if (flags < 0) continue; // closed on the host: closed for the guest
      const dup = host.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 3);
      if (dup < 0) continue;
      t.fds.set(fd, new HostFile(dup, fromHostOpenFlags(t.arch.name, flags), `/proc/self/fd/${fd}`), false);
      t.fds.file(fd).refs--; // set() took its own reference
    }
  }

  run(): ExitState {
    const old = process.umask(0);
    try {
      return this.task.run();
    } finally {
      process.umask(old);
      this.task.destroy();
    }
  }
}
