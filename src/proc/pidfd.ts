// A pidfd: a file that names a process, or with PIDFD_THREAD one thread of
// it. Poll says POLLIN once the process (the thread) has exited and
// POLLHUP too once it is gone (reaped; a thread other than the leader at
// once), as Linux's pidfd_poll; fdinfo shows its pid (-1 once gone). The syscalls on it are in
// syscalls/handlers/pidfd.ts.
import type { WaitQueue } from '../ctx/waitq.js';
import { POLLHUP, POLLIN, POLLRDNORM } from '../abi/poll.js';
import { FileDescription } from '../fs/file.js';
import { hostStatBytes } from '../fs/stat.js';
import type { IoContext } from '../fs/context.js';
import type { Process } from './process.js';
import type { Task } from './task.js';

export class PidFd extends FileDescription {
  override readonly anonName = '[pidfd]';
  private readonly created = Date.now();

  constructor(
    readonly proc: Process,
    flags: number,
    private readonly ino: number,
    /** PIDFD_THREAD's thread; null: the whole process */
    readonly task: Task | null = null,
  ) {
    super(flags);
  }

  /** the thread is gone (a zombie leader stays until its process is reaped) */
  private get gone(): boolean {
    const t = this.task!;
    return this.proc.reaped || (t.state === 'dead' && t.tid !== this.proc.pid);
  }

  override poll(_t: IoContext, _events: number): number {
    if (this.task !== null) {
      if (this.gone) return POLLIN | POLLRDNORM | POLLHUP;
      return this.task.state === 'dead' ? POLLIN | POLLRDNORM : 0;
    }
    if (this.proc.reaped) return POLLIN | POLLRDNORM | POLLHUP;
    return this.proc.exit !== null ? POLLIN | POLLRDNORM : 0;
  }

  override pollQueues(_t: IoContext, _events: number): WaitQueue[] {
    return [this.proc.exitEvents];
  }

  override statBytes(t: IoContext): Uint8Array {
    const c = t.cred;
    return hostStatBytes({ dev: 0xd, ino: this.ino, mode: 0o600, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: this.created, mtimeMs: this.created, ctimeMs: this.created });
  }

  override fdinfo(): string {
    const pid = this.task !== null ? (this.gone ? -1 : this.task.tid) : this.proc.reaped ? -1 : this.proc.pid;
    return `Pid:\t${pid}\nNSpid:\t${pid}\n`;
  }
}
