// A pidfd: a file that names a process. Poll says POLLIN once the process
// has exited and POLLHUP too once it is reaped, as Linux's pidfd_poll;
// fdinfo shows its pid (-1 once reaped). The syscalls on it are in
// syscalls/handlers/pidfd.ts.
import type { WaitQueue } from '../ctx/waitq.js';
import { POLLHUP, POLLIN, POLLRDNORM } from '../abi/poll.js';
import { FileDescription } from '../fs/file.js';
import { hostStatBytes } from '../fs/stat.js';
import type { IoContext } from '../fs/context.js';
import type { Process } from './process.js';

export class PidFd extends FileDescription {
  override readonly anonName = '[pidfd]';
  private readonly created = Date.now();

  constructor(
    readonly proc: Process,
    flags: number,
    private readonly ino: number,
  ) {
    super(flags);
  }

  override poll(_t: IoContext, _events: number): number {
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
    const pid = this.proc.reaped ? -1 : this.proc.pid;
    return `Pid:\t${pid}\nNSpid:\t${pid}\n`;
  }
}
