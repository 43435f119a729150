// File-system contexts (Linux's struct fs_context, fs/fs_context.c and
// fs/fsopen.c): the parameters of a new or a reconfigured file system, given
// one at a time by fsconfig(2) or split from mount(2)'s data string as
// generic_parse_monolithic does, each checked as its file system's
// parse_param checks it; the errors logged as Linux logs them ("e tmpfs: Bad
// value for 'mode'"), which reads of the fsopen or fspick fd give back; the
// file systems made from them (CMD_CREATE) and their reconfiguration (the
// superblock's options: tmpfs's size and inode count, read-only).
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, SysError, Unsupported } from '../../abi/errors.js';
import { O_RDWR } from '../../abi/fcntl.js';
import { DevFs } from '../../fs/devfs.js';
import { FileDescription } from '../../fs/file.js';
import { hostStatBytes } from '../../fs/stat.js';
import { TmpFs } from '../../fs/tmpfs.js';
import type { FileSystem, Vfs } from '../../fs/vfs.js';
import type { IoContext } from '../../fs/context.js';
import { ProcFs } from '../../procfs/procfs.js';
import { SysFs } from '../../procfs/sysfs.js';
import { host } from '../../host/libc.js';
import { hostScratch } from '../../fs/transfer.js';

/** A parameter's value as fsconfig gives it: a flag, a string, or one of the other kinds (binary, path, fd) */
export type ParamValue = { kind: 'flag' } | { kind: 'string'; s: string } | { kind: 'other' };

/** the file system types elfrun makes (ENODEV for others, as a kernel without them) */
export const FS_TYPES = ['tmpfs', 'proc', 'sysfs', 'cgroup2', 'devtmpfs', 'mqueue'];

/** memparse's suffixes: k, m, g, t, p, e (either case) */
const suffix = (c: string): number => 1024 ** Math.max(0, ' kmgtpe'.indexOf(c.toLowerCase()));

/** the host's RAM in bytes (tmpfs's size=N% is a share of it) */
function totalRam(): number {
  const s = hostScratch();
  host.sysinfo(s.addr);
  return Number(s.dv.getBigUint64(32, true)) * s.dv.getUint32(104, true);
}

/**
 * A tmpfs made by a context: statfs reports its size (in 4 KiB blocks) and
 * inode count when it was given them, all free (tmpfs keeps no usage count,
 * and does not refuse a write past the size).
 */
export class SizedTmpFs extends TmpFs {
  /** the superblock's options past rw, in shmem_show_options' order */
  blocks: number | null = null;
  inodes: number | null = null;
  huge: string | null = null;
  noswap = false;
  inode64: string | null = null;
  constructor(
    readonly mode: number,
    readonly uid: number,
    readonly gid: number,
  ) {
    super(mode, uid, gid);
  }
  override statfs(): Uint8Array {
    const b = Buffer.from(super.statfs());
    if (this.blocks !== null) for (const off of [16, 24, 32]) b.writeBigUint64LE(BigInt(this.blocks), off);
    if (this.inodes !== null) for (const off of [40, 48]) b.writeBigUint64LE(BigInt(this.inodes), off);
    return b;
  }
  /** mountinfo's super options (shmem_show_options), after rw or ro */
  options(): string {
    const o: string[] = [];
    if (this.blocks !== null) o.push(`size=${this.blocks * 4}k`);
    if (this.inodes !== null) o.push(`nr_inodes=${this.inodes}`);
    if (this.mode !== 0o1777) o.push(`mode=${this.mode.toString(8).padStart(3, '0')}`);
    if (this.uid !== 0) o.push(`uid=${this.uid}`);
    if (this.gid !== 0) o.push(`gid=${this.gid}`);
    if (this.huge !== null) o.push(`huge=${this.huge}`);
    if (this.inode64 !== null) o.push(this.inode64);
    if (this.noswap) o.push('noswap');
    return o.join(',');
  }
}

/** the super options a mount of `fs` shows in mountinfo: rw or ro, then the file system's own */
export function superOptions(fs: FileSystem): string {
  const own = fs instanceof SizedTmpFs ? fs.options() : '';
  return (fs.sbReadonly ? 'ro' : 'rw') + (own ? ',' + own : '');
}

/** After a reconfiguration: every mount of fs in the table shows its new options. */
export function refreshOptions(vfs: Vfs, fs: FileSystem): void {
  for (const m of vfs.mounts) if (m.fs === fs) m.opts.fsOpts = superOptions(fs);
  vfs.lookups.walk.epoch++;
}

/** tmpfs's parameters (shmem_fs_parameters), as the context holds them until CMD_CREATE or CMD_RECONFIGURE */
interface TmpfsParams {
  mode?: number;
  uid?: number;
  gid?: number;
  blocks?: number;
  inodes?: number;
  huge?: string;
  inode64?: string;
  noswap?: boolean;
}

const TMPFS_FLAGS = ['inode32', 'inode64', 'noswap'];
const TMPFS_STRINGS = ['gid', 'huge', 'mode', 'mpol', 'nr_blocks', 'nr_inodes', 'size', 'uid'];
const HUGE = ['never', 'always', 'within_size', 'advise', 'deny', 'force'];
const CGROUP2_FLAGS = ['nsdelegate', 'favordynmods', 'memory_localevents', 'memory_recursiveprot', 'memory_hugetlb_accounting', 'pids_localevents'];
/** vfs_parse_sb_flag's names: those that set a superblock flag, those that clear one */
const SB_SET = ['dirsync', 'lazytime', 'mand', 'ro', 'sync'];
const SB_CLEAR = ['async', 'nolazytime', 'nomand', 'rw'];

/** fs_context's phases (enum fs_context_phase), as far as a caller can see them */
export type Phase = 'create-params' | 'awaiting-mount' | 'awaiting-reconf' | 'reconf-params' | 'failed';

export class FsContext {
  phase: Phase;
  /** the messages a read gives (Linux keeps the last 8) */
  readonly log: string[] = [];
  source: string | null = null;
  /** "ro"/"rw" given: the superblock's read-only flag to set */
  readonly: boolean | null = null;
  private tmpfs: TmpfsParams = {};
  private cgroupFlags = new Set<string>();
  /** the file system created (CMD_CREATE) or picked (fspick) */
  fs: FileSystem | null = null;

  constructor(
    readonly type: string,
    /** for fspick: the file system to reconfigure */
    picked: FileSystem | null = null,
  ) {
    this.fs = picked;
    this.phase = picked === null ? 'create-params' : 'reconf-params';
  }

  /** a message for the log (Linux keeps the last 8) */
  private logs(level: 'e' | 'w', msg: string, prefixed = true): void {
    this.log.push(`${level} ${prefixed ? this.type + ': ' : ''}${msg}\n`);
    if (this.log.length > 8) this.log.shift();
  }

  /** log an error and fail with EINVAL (invalf) */
  private inval(msg: string, prefixed = true): never {
    this.logs('e', msg, prefixed);
    return fail(E.EINVAL);
  }

  /** A parameter (vfs_parse_fs_param): the superblock flags, the file system's own, then "source". */
  param(key: string, v: ParamValue): void {
    this.prepare();
    if (this.phase !== 'create-params' && this.phase !== 'reconf-params') fail(E.EBUSY);
    if (SB_SET.includes(key) || SB_CLEAR.includes(key)) {
      if (key === 'ro' || key === 'rw') this.readonly = key === 'ro';
      else if (key !== 'async' && key !== 'nolazytime' && key !== 'nomand') throw new Unsupported(`the ${key} superblock flag`, E.EINVAL);
      return;
    }
    if (this.ownParam(key, v)) return;
    if (key === 'source') {
      if (v.kind !== 'string') this.inval('Non-string source', false);
      if (this.source !== null) this.inval('Multiple sources', false);
      this.source = v.s;
      return;
    }
    this.inval(`Unknown parameter '${key}'`);
  }

  /** the file system's parse_param: true when it took the parameter */
  private ownParam(key: string, v: ParamValue): boolean {
    // devtmpfs takes tmpfs's parameters, and ignores them: every mount shows the one devtmpfs
    if (this.type === 'tmpfs' || this.type === 'devtmpfs') {
      if (TMPFS_FLAGS.includes(key)) {
        if (v.kind !== 'flag') this.inval(`Unexpected value for '${key}'`);
        if (key === 'noswap') this.tmpfs.noswap = true;
        else this.tmpfs.inode64 = key;
        return true;
      }
      if (/^(usr|grp)?quota(_(block|inode)_hardlimit)?$/.test(key)) throw new Unsupported(`tmpfs's ${key} (no quotas)`, E.EINVAL);
      if (!TMPFS_STRINGS.includes(key)) return false;
      if (v.kind !== 'string' || v.s === '') return this.inval(`Bad value for '${key}'`);
      this.tmpfsParam(key, v.s);
      return true;
    }
    if (this.type === 'cgroup2' && CGROUP2_FLAGS.includes(key)) {
      if (v.kind !== 'flag') this.inval(`Unexpected value for '${key}'`);
      this.cgroupFlags.add(key);
      return true;
    }
    if (this.type === 'proc' && (key === 'gid' || key === 'hidepid' || key === 'subset')) throw new Unsupported(`proc's ${key}= (procfs shows every process to every reader)`, E.EINVAL);
    return false;
  }

  /** shmem_parse_one for a string parameter */
  private tmpfsParam(key: string, s: string): void {
    const bad = (): never => this.inval(`Bad value for '${key}'`);
    const p = this.tmpfs;
    if (key === 'mode' || key === 'uid' || key === 'gid') {
      const n = key === 'mode' ? (/^[0-7]+$/.test(s) ? parseInt(s, 8) : NaN) : /^\d+$/.test(s) ? Number(s) : NaN;
      // a u32; uid and gid must be valid ids (-1 is none)
      if (!Number.isFinite(n) || n > 0xffffffff || (key !== 'mode' && n === 0xffffffff)) bad();
      if (key === 'mode') p.mode = n & 0o7777;
      else p[key] = n;
      return;
    }
    if (key === 'huge') {
      if (!HUGE.includes(s)) bad();
      p.huge = s;
      return;
    }
    if (key === 'mpol') throw new Unsupported('tmpfs mpol= (no NUMA policy for tmpfs pages)', E.EINVAL);
    // memparse: a number with a k/m/g/t/p/e suffix; size= may be a percentage of RAM instead
    const m = /^(\d+)([kKmMgGtTpPeE%]?)$/.exec(s) ?? bad();
    const n = Number(m[1]);
    if (m[2] === '%' && key !== 'size') bad();
    if (key === 'nr_inodes') p.inodes = n * suffix(m[2]);
    else p.blocks = Math.ceil(m[2] === '%' ? (totalRam() * n) / 100 / 4096 : key === 'nr_blocks' ? n * suffix(m[2]) : (n * suffix(m[2])) / 4096);
  }

  /** after fsmount or a reconfiguration, a fresh set of parameters for the next one (finish_clean_context) */
  prepare(): void {
    if (this.phase === 'awaiting-reconf') this.clean();
  }

  /** parameters gone, for a new round (vfs_clean_context + init_fs_context) */
  private clean(): void {
    this.tmpfs = {};
    this.cgroupFlags.clear();
    this.readonly = null;
    this.source = null;
    this.phase = 'reconf-params';
  }

  /**
   * FSCONFIG_CMD_CREATE: the new file system (vfs_get_tree). `exclusive`
   * (CMD_CREATE_EXCL) refuses the file systems whose one superblock every
   * mount shares (sget_fc's "reusing existing filesystem"): sysfs (the
   * network namespace's), cgroup2, mqueue (the IPC namespace's).
   */
  create(t: Task, exclusive = false): FileSystem {
    if (this.phase !== 'create-params') fail(E.EBUSY);
    if (exclusive && (this.type === 'sysfs' || this.type === 'cgroup2' || this.type === 'mqueue')) {
      this.logs('w', 'reusing existing filesystem not allowed');
      this.phase = 'failed';
      fail(E.EBUSY);
    }
    try {
      this.fs = this.make(t);
    } catch (e) {
      if (e instanceof SysError) this.phase = 'failed';
      throw e;
    }
    if (this.readonly === true) this.fs.sbReadonly = true;
    this.phase = 'awaiting-mount';
    return this.fs;
  }

  private make(t: Task): FileSystem {
    switch (this.type) {
      case 'tmpfs': {
        const p = this.tmpfs;
        const fs = new SizedTmpFs(p.mode ?? 0o1777, p.uid ?? 0, p.gid ?? 0);
        fs.blocks = p.blocks ?? null;
        fs.inodes = p.inodes ?? null;
        fs.huge = p.huge ?? null;
        fs.inode64 = p.inode64 ?? null;
        fs.noswap = p.noswap === true;
        return fs;
      }
      case 'proc':
        return new ProcFs(t.kernel);
      case 'sysfs':
        return new SysFs('sysfs', t.kernel.net);
      case 'cgroup2':
        return new SysFs('cgroup2');
      case 'devtmpfs':
        return new DevFs();
      // every mount of mqueue shows the IPC namespace's queues (one superblock per namespace)
      case 'mqueue':
        return t.kernel.ipc.mq.fs;
      default:
        return fail(E.ENODEV);
    }
  }

  /** FSCONFIG_CMD_RECONFIGURE: the new parameters apply to the file system (reconfigure_super). */
  reconfigure(t: Task): void {
    if (this.phase !== 'reconf-params' || this.fs === null) fail(E.EBUSY);
    const fs = this.fs;
    const p = this.tmpfs;
    if (fs instanceof SizedTmpFs) {
      // shmem_reconfigure: size and inode count may change, unless they were unlimited (0)
      if (p.blocks !== undefined && p.blocks > 0 && fs.blocks === 0) this.failReconf('Cannot retroactively limit size');
      if (p.inodes !== undefined && p.inodes > 0 && fs.inodes === 0) this.failReconf('Cannot retroactively limit inodes');
      if (p.noswap === true && !fs.noswap) this.failReconf('Cannot disable swap on remount');
      if (p.noswap !== true && fs.noswap) this.failReconf('Cannot enable swap on remount if it was disabled on first mount');
      if (p.blocks !== undefined) fs.blocks = p.blocks;
      if (p.inodes !== undefined) fs.inodes = p.inodes;
      if (p.huge !== undefined) fs.huge = p.huge;
      if (p.inode64 !== undefined) fs.inode64 = p.inode64;
    } else if (p.blocks !== undefined || p.inodes !== undefined) {
      throw new Unsupported('resizing a tmpfs elfrun mounted itself', E.EINVAL);
    }
    if (this.readonly !== null) fs.sbReadonly = this.readonly;
    refreshOptions(t.kernel.vfs, fs);
    this.phase = 'awaiting-reconf';
  }

  private failReconf(msg: string): never {
    this.phase = 'failed';
    return this.inval(msg);
  }

  /** mount(2)'s data: comma-separated key[=value] parameters (generic_parse_monolithic) */
  monolithic(data: string | null): void {
    for (const o of (data ?? '').split(',').filter(Boolean)) {
      const eq = o.indexOf('=');
      this.param(eq < 0 ? o : o.slice(0, eq), eq < 0 ? { kind: 'flag' } : { kind: 'string', s: o.slice(eq + 1) });
    }
  }
}

/** An fs-context fd (fsopen, fspick): reads give the context's log, one message each. */
export class FsContextFile extends FileDescription {
  override readonly anonName = '[fscontext]';
  constructor(
    readonly ctx: FsContext,
    cloexecFlags: number,
  ) {
    super(O_RDWR | cloexecFlags);
  }
  override read(t: IoContext, addr: number, len: number): number {
    const msg = this.ctx.log.shift();
    if (msg === undefined) return fail(E.ENODATA);
    const b = Buffer.from(msg, 'latin1');
    if (b.length > len) return fail(E.EMSGSIZE);
    t.mm.write(addr, b);
    return b.length;
  }
  override write(): number {
    return fail(E.EINVAL);
  }
  /** the anonymous inode every fs-context fd shares (anon_inode_getfd's): root's, 0600, on the anon inode file system */
  override statBytes(): Uint8Array {
    return hostStatBytes({ dev: 0xd, ino: 900000, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0 });
  }
}
