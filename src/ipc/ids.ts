// The id table every System V IPC kind has (Linux's ipc/util.c): objects by
// index, ids as Linux computes them (seq * 32768 + index, the index taken
// cyclically below max(in_use * 3/2, 64), the sequence bumped whenever the
// index wraps), keys (IPC_PRIVATE, IPC_CREAT, IPC_EXCL), the permission
// checks against the caller's credentials (ipcperms, ipcctl_obtain_check),
// and struct ipc64_perm, which is the same on x86_64 and arm64.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import type { Cred } from '../ctx/cred.js';

import { IPC_CREAT, IPC_EXCL, IPC_PRIVATE } from '../abi/ipc.js';

/** the permission bits of a mode (S_IRWXUGO) */
export const S_IRWXUGO = 0o777;
export const S_IRUGO = 0o444;
export const S_IWUGO = 0o222;
export const S_IXUGO = 0o111;

/** Linux's IPCMNI_SHIFT: an id is seq << 15 | index */
const SEQ_SHIFT = 15;
/** ipcid_seq_max(): the sequence wraps past this */
const SEQ_MAX = 2 ** 31 / 2 ** SEQ_SHIFT;
/** ipc_min_cycle (RADIX_TREE_MAP_SIZE): indices cycle through at least this many */
const MIN_CYCLE = 64;
/** IPCMNI: no more objects than this of one kind, whatever the limit says */
const IPCMNI = 32768;

export const CAP_IPC_LOCK = 14;
export const CAP_IPC_OWNER = 15;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_RESOURCE = 24;

export const capable = (c: Cred, cap: number): boolean => (c.caps.eff & (1n << BigInt(cap))) !== 0n;

/** struct kern_ipc_perm: what every object has. */
export class IpcPerm {
  uid: number;
  gid: number;
  readonly cuid: number;
  readonly cgid: number;
  /** S_IRWXUGO, and the kind's own flags above them (SHM_DEST, SHM_LOCKED) */
  mode: number;
  seq = 0;
  id = -1;
  /** false once removed (IPC_RMID); a waiter then gets EIDRM */
  valid = true;
  constructor(
    public key: number,
    mode: number,
    c: Cred,
  ) {
    this.uid = this.cuid = c.euid;
    this.gid = this.cgid = c.egid;
    this.mode = mode & S_IRWXUGO;
  }

  /** ipcperms: may c have the access of `flag` (its S_IRWXUGO bits)? CAP_IPC_OWNER may do anything. */
  allows(c: Cred, flag: number): boolean {
    const requested = (flag >> 6) | (flag >> 3) | flag;
    let granted = this.mode;
    if (c.euid === this.cuid || c.euid === this.uid) granted >>= 6;
    else if (c.inGroup(this.cgid) || c.inGroup(this.gid)) granted >>= 3;
    return (requested & ~granted & 0o7) === 0 || capable(c, CAP_IPC_OWNER);
  }

  /** ipcperms or EACCES */
  check(c: Cred, flag: number): void {
    if (!this.allows(c, flag)) fail(E.EACCES);
  }

  /** ipcctl_obtain_check: IPC_SET and IPC_RMID are for the owner, the creator or CAP_SYS_ADMIN (EPERM). */
  checkOwner(c: Cred): void {
    if (c.euid !== this.cuid && c.euid !== this.uid && !capable(c, CAP_SYS_ADMIN)) fail(E.EPERM);
  }

  /** struct ipc64_perm (48 bytes) at `off` of b. */
  encode(b: Buffer, off = 0): void {
    b.writeInt32LE(this.key | 0, off);
    b.writeUInt32LE(this.uid >>> 0, off + 4);
    b.writeUInt32LE(this.gid >>> 0, off + 8);
    b.writeUInt32LE(this.cuid >>> 0, off + 12);
    b.writeUInt32LE(this.cgid >>> 0, off + 16);
    b.writeUInt32LE(this.mode, off + 20);
    b.writeUInt16LE(this.seq & 0xffff, off + 24);
  }

  /** ipc_update_perm from an ipc64_perm at `off` of b (IPC_SET): uid, gid and the permission bits; EINVAL for an id that is no id (-1). */
  update(b: Buffer, off = 0): void {
    const uid = b.readUInt32LE(off + 4);
    const gid = b.readUInt32LE(off + 8);
    if (uid === 0xffffffff || gid === 0xffffffff) fail(E.EINVAL);
    this.uid = uid;
    this.gid = gid;
    this.mode = (this.mode & ~S_IRWXUGO) | (b.readUInt32LE(off + 20) & S_IRWXUGO);
  }
}

export const IPC64_PERM_SIZE = 48;

export interface IpcObject {
  readonly perm: IpcPerm;
}

/** The objects of one kind (shm segments, semaphore sets or message queues). */
export class IpcIds<T extends IpcObject> {
  private readonly byIdx = new Map<number, T>();
  private readonly byKey = new Map<number, T>();
  private seq = 0;
  private lastIdx = -1;
  /** idr_alloc_cyclic's cursor: the next index tried */
  private next = 0;

  constructor(
    /** the kind's limit on objects (shmmni, semmni, msgmni) */
    private readonly mni: () => number,
  ) {}

  get inUse(): number {
    return this.byIdx.size;
  }

  values(): IterableIterator<T> {
    return this.byIdx.values();
  }

  /** The object with this id (index and sequence must match), or EINVAL. */
  get(id: number): T {
    if (!(id >= 0)) return fail(E.EINVAL);
    const o = this.byIdx.get(id % IPCMNI);
    if (o === undefined || o.perm.id !== id) return fail(E.EINVAL);
    return o;
  }

  /** The object at this index (the *_STAT commands take one), or EINVAL. */
  at(idx: number): T {
    const o = idx >= 0 ? this.byIdx.get(idx) : undefined;
    return o ?? fail(E.EINVAL);
  }

  /** ipc_get_maxidx: the highest index in use, -1 when there is none. */
  maxIdx(): number {
    let m = -1;
    for (const i of this.byIdx.keys()) if (i > m) m = i;
    return m;
  }

  /**
   * ipcget: IPC_PRIVATE always makes a new object; a key finds its object
   * (EEXIST with IPC_CREAT|IPC_EXCL; `check` then EACCES against the flag's
   * permission bits) or, with IPC_CREAT, makes one (ENOENT without).
   */
  getOrMake(key: number, flags: number, c: Cred, make: () => T, check: (o: T) => void): number {
    if (key !== IPC_PRIVATE) {
      const o = this.byKey.get(key);
      if (o !== undefined) {
        if (flags & IPC_CREAT && flags & IPC_EXCL) fail(E.EEXIST);
        check(o);
        o.perm.check(c, flags);
        return o.perm.id;
      }
      if (!(flags & IPC_CREAT)) fail(E.ENOENT);
    }
    return this.add(make()).perm.id;
  }

  /** ipc_addid: a free index taken cyclically, ENOSPC past the limit. */
  private add(o: T): T {
    const mni = Math.min(this.mni(), IPCMNI);
    if (this.byIdx.size >= mni) fail(E.ENOSPC);
    const max = Math.min(Math.max(Math.floor((this.byIdx.size * 3) / 2), MIN_CYCLE), mni);
    let idx = -1;
    for (let i = this.next; i < max; i++) if (!this.byIdx.has(i)) {
      idx = i;
      break;
    }
    if (idx < 0) for (let i = 0; i < Math.min(this.next, max); i++) if (!this.byIdx.has(i)) {
      idx = i;
      break;
    }
    if (idx < 0) fail(E.ENOSPC);
    this.next = idx + 1;
    if (idx <= this.lastIdx && ++this.seq >= SEQ_MAX) this.seq = 0;
    this.lastIdx = idx;
    o.perm.seq = this.seq;
    o.perm.id = this.seq * 2 ** SEQ_SHIFT + idx;
    this.byIdx.set(idx, o);
    if (o.perm.key !== IPC_PRIVATE) this.byKey.set(o.perm.key, o);
    return o;
  }

  /** The key no longer finds the object (IPC_RMID of a shm segment still attached): its key reads 0. */
  forgetKey(o: T): void {
    if (o.perm.key !== IPC_PRIVATE && this.byKey.get(o.perm.key) === o) this.byKey.delete(o.perm.key);
    o.perm.key = IPC_PRIVATE;
  }

  /** The object leaves the table (ipc_rmid). */
  remove(o: T): void {
    this.forgetKey(o);
    const idx = o.perm.id % IPCMNI;
    if (this.byIdx.get(idx) === o) this.byIdx.delete(idx);
    o.perm.valid = false;
  }
}

/** The seconds of the real-time clock (the *_time fields). */
export const nowSec = (): number => Math.floor(Date.now() / 1000);
