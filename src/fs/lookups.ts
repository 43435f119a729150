// What path walks learnt, kept per file system tree (one per Machine): the
// epoch that scopes a lookup's answers to one syscall, the state of the
// VFS's cache of directory walks, and hostfs's cache of host directories and
// symlinks.

/** What hostfs learnt of a host directory or symlink. */
export interface KnownHostPath {
  until: number;
  type: number;
  /** a symlink's target */
  target: Buffer | null;
}

export class LookupState {
  /** Bumped at each syscall and path resolution: what a lookup learnt is reused by the same syscall only. */
  epoch = 0;
  /**
   * The VFS's walk cache: its epoch (bumped when any entry may be stale: a
   * mount, a guest change to a host directory), and, while a walk runs, the
   * earliest expiry of what it used and whether it stayed in file systems
   * whose walks may be kept.
   */
  readonly walk = { epoch: 0, until: Infinity, pure: true };
  /**
   * Host directories and symlinks by host path, so that a walk does not stat
   * every component of every path again (a path of N components costs one
   * host call instead of N), nor read the same link again (musl's localtime()
   * stats /etc/localtime, a link, for every file `ls -l` shows). Guest
   * changes through elfrun clear it; a change made by another host process is
   * seen after at most HOST_PATH_TTL_MS. Regular files are not kept: their
   * stat is the answer a caller wants.
   */
  hostPaths = new Map<string, KnownHostPath>();

  /** A new syscall begins: what lookups learnt was for the one before. */
  newCall(): void {
    this.epoch++;
  }

  /** A guest changed a host directory: forget what walks learnt. */
  forgetHostPaths(): void {
    if (this.hostPaths.size > 0) this.hostPaths = new Map();
    this.walk.epoch++;
  }
}

export const HOST_PATH_TTL_MS = 1000;
