// The front: the small native process (scripts/native/front.c) that the
// shell started and waits for, and that forked this Node process, the
// worker. The guest's first process stands for the front towards the host
// (its pid, parent and process group are the front's); when it ends while
// other guest processes live on, the worker tells the front how it ended,
// the front ends so, and the worker carries on without it (detach).
//
// ELFRUN_FRONT ("fd:pid:ppid:pgid": the socket to the front, and the
// front's ids) is taken out of the environment at load, before anything
// copies the environment for the guest.
import { closeSync, fstatSync, openSync, readdirSync, writeSync } from 'node:fs';
import koffi from './ffi.js';
import { host } from './libc.js';
import { F_GETFD, F_SETFD, FD_CLOEXEC } from '../abi/fcntl.js';
import { POLLHUP, POLLIN } from '../abi/poll.js';

export interface Front {
  /** the socket to the front (FD_CLOEXEC: no guest inherits it) */
  fd: number;
  pid: number;
  /** the front's parent (the shell) */
  ppid: number;
  /** the front's process group (the shell's job); the worker has a group of its own */
  pgid: number;
}

const PR_SET_PDEATHSIG = 1;

function take(): Front | null {
  const v = process.env.ELFRUN_FRONT;
  if (v === undefined) return null;
  delete process.env.ELFRUN_FRONT;
  const [fd, pid, ppid, pgid] = v.split(':').map(Number);
  if (![fd, pid, ppid, pgid].every((n) => Number.isInteger(n) && n > 0) || process.ppid !== pid) return null;
  if (host.fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return null;
  return { fd, pid, ppid, pgid };
}

/** The front that started this process, or null (Node was run directly, or a library). */
export const front: Front | null = take();

let libc: { prctl: (...a: unknown[]) => number; dup2: (a: number, b: number) => number; getppid: () => number } | null = null;
function lib(): NonNullable<typeof libc> {
  if (libc !== null) return libc;
  const l = koffi.load('libc.so.6');
  libc = {
    prctl: l.func('int prctl(int option, ...)') as (...a: unknown[]) => number,
    dup2: l.func('int dup2(int oldfd, int newfd)') as (a: number, b: number) => number,
    getppid: l.func('int getppid(void)') as () => number,
  };
  return libc;
}

/** A line to the front; false if it is gone. */
function tell(f: Front, line: string): boolean {
  try {
    writeSync(f.fd, `${line}\n`);
    return true;
  } catch {
    return false;
  }
}

/** The guest stops by this signal and the worker stops next: the front stops with it, so the shell sees the job stopped. */
export function frontStops(sig: number): void {
  if (front !== null) tell(front, `t ${sig}`);
}

/**
 * The guest's first process ended while others live: the front ends as it
 * ended (exit status or signal), and this process runs on as the daemons'
 * host process. The front's death no longer kills it (PR_SET_PDEATHSIG), and
 * it lets go of the host fds it was started with (the guest holds copies of
 * its own), so that a shell's pipe or $(...) that a daemon has let go of
 * ends; stderr stays where it is a terminal or a file, for elfrun's own
 * messages. Returns the host parent this process has once the front has
 * gone (pid 1 or a subreaper, as for a native daemon), or null without a front.
 */
export function detachFromFront(state: { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number }): number | null {
  const f = front;
  if (f === null) return null;
  const c = lib();
  c.prctl(PR_SET_PDEATHSIG, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0);
  if (tell(f, state.kind === 'exited' ? `x ${state.code}` : `s ${state.signal}`)) {
    // the front ends at once: its end of the socket closes
    const pfd = new Int16Array([f.fd, 0, POLLIN | POLLHUP, 0]);
    const until = Date.now() + 5000;
    while (Date.now() < until && !(pfd[3] & POLLHUP)) {
      pfd[3] = 0;
      host.pollMany(pfd, until - Date.now());
    }
  }
  closeSync(f.fd);
  let devnull = -1;
  try {
    devnull = openSync('/dev/null', 'r+');
    for (const name of readdirSync('/proc/self/fd')) {
      const fd = Number(name);
      if (fd > 2) {
        // inherited ones (Node's own have FD_CLOEXEC, as Node sets it on 0-2 too)
        if (fd !== devnull && host.fcntl(fd, F_GETFD, 0) === 0) closeSync(fd);
      } else if (fd < 2 || !keepForMessages(fd)) c.dup2(devnull, fd);
    }
  } catch {
    /* no /proc: the fds stay */
  } finally {
    if (devnull >= 0) closeSync(devnull);
  }
  return c.getppid();
}

/** Is fd a terminal or a regular file (which no reader waits on to end)? */
function keepForMessages(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFile() || st.isCharacterDevice();
  } catch {
    return false;
  }
}
