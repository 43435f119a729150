// What a path under /proc is: a file (its content made when it is opened), a
// symlink (its target, and for the "magic" links where it leads), or a
// directory (its entries). procNode (tree.ts) answers one for every path;
// the file system's nodes and open files are made from these.
import { S_IFDIR, S_IFLNK, S_IFREG } from '../abi/stat.js';
import type { IoContext } from '../fs/context.js';
import type { StatFields } from '../fs/stat.js';
import type { Loc } from '../fs/vfs.js';
import type { Process } from '../proc/process.js';

export type ProcNode = (
  | {
      kind: 'file';
      name: string;
      content: () => Buffer;
      /** permission bits when not 0444 (Linux's, e.g. 0644 for a writable entry, 0400 for a private one) */
      mode?: number;
      /** a file read at an offset rather than from one snapshot (mem, pagemap): up to len bytes at off */
      at?: (off: number, len: number) => Buffer;
      /** a write(2) of `data` (one call's bytes): the count taken, or a thrown errno */
      write?: (t: IoContext, data: Buffer) => number;
    }
  | { kind: 'link'; name: string; target: () => string; fdMode?: number; jump?: () => Loc | null }
  | { kind: 'dir'; name: string; entries: () => Array<[string, number]>; mode?: number; subdirs?: () => number }
) & {
  /** who owns it: a process's entries are its effective ids (root's while it is not dumpable); else the caller's */
  owner?: { uid: number; gid: number };
  /** the process whose /proc/<pid> directory this is (pidfd_send_signal takes an fd of it as a pidfd) */
  tgid?: Process;
};

/** procfs's device number as Linux reports it (anonymous, major 0) */
export const PROC_DEV = 0x16;

/** An inode number for a /proc path: a hash of its name, stable while elfrun runs (never 0). */
export function procIno(name: string): number {
  let ino = 0;
  for (const c of name) ino = (ino * 31 + c.charCodeAt(0)) >>> 0;
  return ino || 1;
}

/**
 * A node's stat: directories r-x for all, files read-only (unless the node
 * gives its mode), links rwx (an fd
 * link: r-x/-wx for how the fd is open, size 64, as Linux shows them); owned
 * by the node's owner (the caller without one), times now.
 */
export function nodeStat(t: IoContext, n: ProcNode): StatFields {
  const now = Date.now();
  const fdLink = n.kind === 'link' && n.fdMode !== undefined;
  const mode = n.kind === 'dir' ? S_IFDIR | (n.mode ?? 0o555) : n.kind === 'link' ? S_IFLNK | (fdLink ? n.fdMode! : 0o777) : S_IFREG | (n.mode ?? 0o444);
  return { dev: PROC_DEV, ino: procIno(n.name), mode, nlink: n.kind === 'dir' ? 2 + (n.subdirs?.() ?? 0) : 1, uid: n.owner?.uid ?? t.cred.euid, gid: n.owner?.gid ?? t.cred.egid, rdev: 0, size: fdLink ? 64 : 0, blksize: 1024, blocks: 0, atimeMs: now, mtimeMs: now, ctimeMs: now };
}

/** The S_IFMT type of a node of each kind. */
export const KIND_TYPE = { file: S_IFREG, link: S_IFLNK, dir: S_IFDIR };
