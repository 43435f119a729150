// A process's file descriptor table: fd -> (open-file description, FD_CLOEXEC).
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import type { FileDescription } from './file.js';
import type { LockHolder, LockTable } from './locks.js';
import { dnotifyFlush } from './dnotify.js';

export interface FdEntry {
  file: FileDescription;
  cloexec: boolean;
}

/** A process's fd table; it is also the owner of the process's POSIX record locks, as Linux's files_struct. */
export class FdTable implements LockHolder {
  private fds: Array<FdEntry | undefined> = [];
  /** the lock table this table's process holds POSIX locks in (null: none): a close of any fd of a locked file drops them */
  locks: LockTable | null = null;
  /** tasks sharing this table (CLONE_FILES) */
  refs = 1;

  /** A copy for a child process: the same open-file descriptions, each one more referenced. */
  clone(): FdTable {
    const t = new FdTable();
    t.limit = this.limit;
    this.fds.forEach((e, fd) => {
      if (e) {
        e.file.refs++;
        t.fds[fd] = { file: e.file, cloexec: e.cloexec };
      }
    });
    return t;
  }

  /** execve: close every close-on-exec fd. */
  closeOnExec(): void {
    this.fds.forEach((e, fd) => e?.cloexec && this.close(fd));
  }
  /** RLIMIT_NOFILE soft limit */
  limit = 1024;

  get(fd: number): FdEntry {
    const e = fd >= 0 ? this.fds[fd] : undefined;
    if (e === undefined) fail(E.EBADF);
    return e;
  }

  file(fd: number): FileDescription {
    return this.get(fd).file;
  }

  has(fd: number): boolean {
    return fd >= 0 && this.fds[fd] !== undefined;
  }

  /** Is there a free fd below the limit (would add succeed)? */
  hasRoom(): boolean {
    for (let fd = 0; fd < this.limit; fd++) if (this.fds[fd] === undefined) return true;
    return false;
  }

  /** Install at the lowest free fd >= min. The table takes the caller's reference. */
  add(file: FileDescription, cloexec: boolean, min = 0): number {
    let fd = min;
    while (fd < this.fds.length && this.fds[fd] !== undefined) fd++;
    if (fd >= this.limit) fail(E.EMFILE);
    this.fds[fd] = { file, cloexec };
    return fd;
  }

  /** dup2/dup3: install at exactly fd, closing what was there. */
  set(fd: number, file: FileDescription, cloexec: boolean): void {
    if (fd < 0 || fd >= this.limit) fail(E.EBADF);
    const old = this.fds[fd];
    file.refs++;
    this.fds[fd] = { file, cloexec };
    if (old) this.unref(old.file);
  }

  close(fd: number): void {
    const e = this.get(fd);
    this.fds[fd] = undefined;
    this.unref(e.file);
  }

  /** An fd of this table closes: the process's POSIX locks on its file go, its F_NOTIFY registration, then the reference. */
  private unref(f: FileDescription): void {
    this.locks?.closed(this, f);
    dnotifyFlush(f, this);
    f.unref();
  }

  closeAll(): void {
    for (let fd = 0; fd < this.fds.length; fd++) if (this.fds[fd]) this.close(fd);
  }

  entries(): Array<[number, FdEntry]> {
    const out: Array<[number, FdEntry]> = [];
    this.fds.forEach((e, fd) => e && out.push([fd, e]));
    return out;
  }
}
