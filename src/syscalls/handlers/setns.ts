// setns(2): joining a namespace named by an fd of /proc/<pid>/ns/ or by a
// pidfd (kernel/nsproxy.c). A guest process may have a UTS namespace of its
// own (proc/uts.ts), which another joins; of every other kind the guest has
// one namespace, so the one an fd names is the caller's own, and joining it
// does what Linux does for the namespace one is already in: nothing for
// pid, net, cgroup and time; the mount namespace's root becomes the root and
// the cwd; the IPC namespace drops the caller's semaphore undo list (applied,
// as exit_sem applies it); the user namespace is EINVAL.
import { readFileSync } from 'node:fs';
import type { Task } from '../../proc/task.js';
import type { Process } from '../../proc/process.js';
import type { Uts } from '../../proc/uts.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { CLONE } from '../../abi/sched.js';
import { PidFd } from '../../proc/pidfd.js';
import { NsFile, nsLink } from '../../procfs/pidinfo.js';
import { mayPtrace, partial, type Def } from './util.js';

const CAP_SYS_CHROOT = 1n << 18n;
const CAP_SYS_ADMIN = 1n << 21n;

/** the namespace kinds by their CLONE_NEW* type, as /proc/<pid>/ns names them, in the order validate_nsset checks them */
const KINDS: ReadonlyArray<readonly [number, string]> = [
  [CLONE.NEWUSER, 'user'], [CLONE.NEWNS, 'mnt'], [CLONE.NEWUTS, 'uts'], [CLONE.NEWIPC, 'ipc'], [CLONE.NEWPID, 'pid'], [CLONE.NEWCGROUP, 'cgroup'], [CLONE.NEWNET, 'net'], [CLONE.NEWTIME, 'time'],
];
const ALL = KINDS.reduce((a, [f]) => a | f, 0);

let initialUserNs: boolean | undefined;
/** Is the host's user namespace (the guest's) the initial one: a uid_map of every id onto itself? */
export function hostUserNsIsInitial(): boolean {
  if (initialUserNs === undefined) {
    try {
      initialUserNs = /^\s*0\s+0\s+4294967295\s*$/.test(readFileSync('/proc/self/uid_map', 'latin1'));
    } catch {
      initialUserNs = true;
    }
  }
  return initialUserNs;
}

/** The checks of each kind's install (utsns_install, mntns_install...): CAP_SYS_ADMIN, and what joining asks of the caller. */
function check(t: Task, kind: string): void {
  const caps = t.cred.caps.eff;
  if (kind === 'user') fail(E.EINVAL); // userns_install: the caller's own namespace
  if (!(caps & CAP_SYS_ADMIN)) fail(E.EPERM);
  if (kind === 'mnt') {
    if (!(caps & CAP_SYS_CHROOT)) fail(E.EPERM);
    // the fs_struct may not be shared (CLONE_FS, the threads)
    if (t.proc.fs.refs > 1 || t.proc.threads.size > 1) fail(E.EINVAL);
  }
  if (kind === 'time' && t.proc.threads.size > 1) fail(E.EUSERS);
}

/** What joining does (commit_nsset), once every kind asked for has passed its checks. */
function join(t: Task, kind: string, uts: Uts | null): void {
  const p = t.proc;
  if (kind === 'uts' && uts !== null) p.uts = uts === t.kernel.uts ? null : uts;
  if (kind === 'mnt') {
    // the namespace's root (with what is mounted on it) becomes the root and the cwd
    p.fs.root = null;
    p.fs.cwd = t.kernel.vfs.root;
  }
  if (kind === 'ipc' && p.semUndo !== null) {
    t.kernel.ipc.sem.exit(p.semUndo, p.pid);
    p.semUndo = null;
  }
}

/** a process's UTS namespace (null in Process.uts is the machine's first) */
const utsOf = (t: Task, p: Process): Uts => p.uts ?? t.kernel.uts;

function setns(t: Task, fd: number, nstype: number): number {
  const f = t.fds.file(fd);
  const joins: Array<[string, Uts | null]> = [];
  if (f instanceof NsFile) {
    const link = f.node.key;
    const kind = link.slice(0, link.indexOf(':'));
    const type = KINDS.find(([, k]) => k === kind)?.[0] ?? fail(E.EINVAL);
    if (nstype !== 0 && nstype !== type) fail(E.EINVAL);
    if (kind !== 'uts' && link !== nsLink(t, t.proc, kind)) throw new Unsupported(`setns to a ${kind} namespace other than the caller's`, E.EINVAL);
    joins.push([kind, f.node.uts]);
  } else if (f instanceof PidFd) {
    if (nstype === 0 || nstype & ~ALL) fail(E.EINVAL);
    const p = f.proc;
    // validate_nsset: a live process the caller may read as ptrace does
    if (p.exit !== null) fail(E.ESRCH);
    mayPtrace(t, p);
    for (const [flag, kind] of KINDS) if (nstype & flag) joins.push([kind, kind === 'uts' ? utsOf(t, p) : null]);
  } else {
    fail(E.EINVAL);
  }
  for (const [kind] of joins) check(t, kind);
  for (const [kind, uts] of joins) join(t, kind, uts);
  return 0;
}

export const setnsDefs: Record<string, Def> = {
  setns: partial(
    ['fd', 'nstype'],
    (t, a) => setns(t, a.i32(0), a.i32(1)),
    'an fd of /proc/<pid>/ns/* or a pidfd; the UTS namespace another guest process has (elfrun keeps it per process: a thread\'s setns moves its whole thread group, where Linux moves the thread); every other kind is the caller\'s own (joining it: mnt resets root and cwd, ipc drops the semaphore undo list, user is EINVAL)',
  ),
};
