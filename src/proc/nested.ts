// A guest that runs elfrun itself (a test harness's wrapper script does:
// `exec elfrun run --argv0 NAME busybox "$@"`). Booting Node.js inside the
// emulator would be absurd; as qemu-user's binfmt handler does for foreign
// binaries, the exec of elfrun's own launcher becomes the exec of the
// program it names, in the same emulated process.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Task } from './task.js';
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import { HostNode } from '../fs/hostfs.js';
import type { Loc } from '../fs/vfs.js';
import { statFields } from '../fs/stat.js';

/** elfrun's own files on the host: the same for every Machine, found once. */
let selfIds: Set<string> | null = null;

/** Host identities (dev:ino) of elfrun's launcher and its compiled entry point. */
function launchers(): Set<string> {
  if (selfIds === null) {
    selfIds = new Set();
    const here = dirname(fileURLToPath(import.meta.url));
    // tsc's layout (dist/src/proc, dist/src/cli.js) or the bundle's (dist/elfrun.cjs)
    for (const p of [process.argv[1] ?? '', resolve(here, '../../../bin/elfrun'), resolve(here, '../cli.js'), resolve(here, '../bin/elfrun'), resolve(here, 'elfrun.cjs')]) {
      try {
        const st = statSync(p);
        selfIds.add(`${st.dev}:${st.ino}`);
      } catch {
        /* not there */
      }
    }
  }
  return selfIds;
}

/** Is this the elfrun launcher (or its entry point)? */
export function isElfrun(t: Task, loc: Loc): boolean {
  if (!(loc.node instanceof HostNode)) return false;
  const st = statFields(loc.node.stat(t));
  return launchers().has(`${st.dev}:${st.ino}`);
}

/**
 * `elfrun run [--argv0 NAME] [-E VAR=VALUE] [-U VAR] [--clear-env] PROGRAM ARGS...`
 * as an exec: the program's path, argv and environment. Other options (a
 * nested --root, --strace...) are reported as unsupported.
 */
export function nestedRun(argv: Buffer[], envp: Buffer[]): { path: Buffer; argv: Buffer[]; envp: Buffer[] } {
  const a = argv.map((b) => b.toString('latin1'));
  let i = 1;
  if (a[i] !== 'run') throw new Unsupported(`elfrun ${a[i] ?? '(no command)'} run by the guest (only "elfrun run" can be nested)`, E.ENOEXEC);
  i++;
  let argv0: string | null = null;
  let env = envp.map((b) => b.toString('latin1'));
  const unset = (name: string): void => {
    env = env.filter((e) => !e.startsWith(name + '='));
  };
  for (; i < a.length && a[i].startsWith('-'); i++) {
    const [flag, inline] = a[i].includes('=') && a[i].startsWith('--') ? [a[i].slice(0, a[i].indexOf('=')), a[i].slice(a[i].indexOf('=') + 1)] : [a[i], null];
    const value = (): string => inline ?? a[++i] ?? fail(E.EINVAL);
    if (flag === '--') {
      i++;
      break;
    } else if (flag === '--argv0') argv0 = value();
    else if (flag === '-E' || flag === '--env') {
      const v = value();
      unset(v.split('=')[0]);
      env.push(v);
    } else if (flag === '-U' || flag === '--unset') unset(value());
    else if (flag === '--clear-env') env = [];
    else throw new Unsupported(`option ${flag} of an elfrun run by the guest`, E.ENOEXEC);
  }
  if (i >= a.length) fail(E.ENOEXEC);
  const prog = a[i];
  const args = a.slice(i + 1);
  let path = prog;
  if (!prog.includes('/')) {
    // elfrun looks a bare name up in PATH, as the shell would
    const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/bin:/usr/bin:/bin';
    path = pathVar.split(':').filter(Boolean).map((d) => `${d}/${prog}`).find((p) => { try { return statSync(p).isFile(); } catch { return false; } }) ?? prog;
  }
  return { path: Buffer.from(path, 'latin1'), argv: [argv0 ?? prog, ...args].map((s) => Buffer.from(s, 'latin1')), envp: env.map((s) => Buffer.from(s, 'latin1')) };
}
