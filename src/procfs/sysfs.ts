// /sys for the guest: a read-only file system of elfrun's own (the host's
// /sys is not shown) with what user space commonly reads of it: the CPUs the
// guest runs on (devices/system/cpu: online, possible, present, each cpuN's
// online and topology, as the host has them, since guest threads run on the
// host's processors), transparent huge pages' settings (kernel/mm/
// transparent_hugepage, the host's: guest memory is host memory), an empty
// block/, dev/block/ and dev/char/ (lsblk starts there), class/net (below),
// and fs/cgroup, where an empty cgroup2 file system (also a SysFs) is
// mounted: the guest is in no cgroup it can see or change.
//
// class/net holds a link per interface of the guest's network to its device
// directory, as Linux's: with --net host the host's interfaces (those its
// netlink shows the guest), each attribute and statistics/* read from the
// host's file when read (its errors too: speed of lo is EINVAL); with --net
// none lo alone, with the host's lo's attributes (lo is the same device in
// every namespace) and statistics/ of elfrun's lo (net/loop.ts), the counters
// /proc/net/dev and netlink give.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { IoContext } from '../fs/context.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { NAME_MAX } from '../abi/limits.js';
import { CGROUP2_SUPER_MAGIC, DT_DIR, DT_LNK, DT_REG, S_IFDIR, S_IFLNK, SYSFS_MAGIC, S_IFREG, ST_NODEV, ST_NOEXEC, ST_NOSUID, ST_VALID, W_OK, X_OK } from '../abi/stat.js';
import type { Vfs } from '../fs/vfs.js';
import { loCounters } from '../net/loop.js';
import type { FileDescription } from '../fs/file.js';
import { hostStatBytes, type StatFields } from '../fs/stat.js';
import { FileSystem, VNode, type Loc } from '../fs/vfs.js';
import { ProcFile } from './file.js';
import { procIno, type ProcNode } from './node.js';


/** An entry: a directory, a file read from the host's /sys at `host` (its mode kept), one elfrun makes, or a symlink. */
type SysEntry = { kind: 'dir' } | { kind: 'file'; host: string; mode: number } | { kind: 'own'; mode: number; content: (vfs: Vfs) => string } | { kind: 'link'; target: string };

/** The guest's network: the host's, or elfrun's own holding only lo. */
export type SysNet = 'host' | 'none';

/** The host's files under /sys/`dir` whose names match, as entries of the guest's /sys/`dir`. */
function hostFiles(tree: Map<string, SysEntry>, dir: string, names: RegExp): void {
  let list: string[];
  try {
    list = readdirSync(`/sys/${dir}`);
  } catch {
    return;
  }
  for (const n of list) {
    if (!names.test(n)) continue;
    try {
      const st = statSync(`/sys/${dir}/${n}`);
      if (st.isFile()) tree.set(`${dir}/${n}`, { kind: 'file', host: `/sys/${dir}/${n}`, mode: st.mode & 0o777 });
    } catch {
      /* gone, or not ours to see */
    }
  }
}

/** statistics/ of elfrun's lo: what it carried, each packet received as sent; no errors, drops or collisions */
function ownLoStat(name: string): (vfs: Vfs) => string {
  return (vfs) => {
    const lo = loCounters(vfs);
    return `${name.endsWith('_packets') ? lo.packets : name.endsWith('_bytes') ? lo.bytes : 0}\n`;
  };
}

/** class/net and the device directories its links lead to (see the header). */
function netTree(tree: Map<string, SysEntry>, dir: (p: string) => void, net: SysNet): void {
  dir('class/net');
  let names: string[] = [];
  try {
    names = readdirSync('/sys/class/net');
  } catch {
    /* no host sysfs: no interfaces listed */
  }
  for (const n of names) {
    if (net === 'none' && n !== 'lo') continue;
    let target: string;
    try {
      target = readlinkSync(`/sys/class/net/${n}`);
    } catch {
      continue;
    }
    // ../../devices/..., relative to class/net
    if (!target.startsWith('../../devices/')) continue;
    const dev = target.slice('../../'.length);
    tree.set(`class/net/${n}`, { kind: 'link', target });
    dir(dev);
    dir(`${dev}/statistics`);
    hostFiles(tree, dev, /./);
    if (net === 'host') hostFiles(tree, `${dev}/statistics`, /./);
    else {
      let stats: string[] = [];
      try {
        stats = readdirSync(`/sys/class/net/${n}/statistics`);
      } catch {
        /* none listed */
      }
      for (const st of stats) tree.set(`${dev}/statistics/${st}`, { kind: 'own', mode: 0o444, content: ownLoStat(st) });
    }
  }
}

/** The tree of the guest's /sys: path below the mount ('' for its root) -> entry. */
function sysTree(net: SysNet): Map<string, SysEntry> {
  const tree = new Map<string, SysEntry>();
  const dir = (p: string): void => {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) tree.set(parts.slice(0, i).join('/'), { kind: 'dir' });
  };
  tree.set('', { kind: 'dir' });
  for (const d of ['block', 'class', 'dev/block', 'dev/char', 'fs/cgroup', 'kernel/mm/transparent_hugepage', 'devices/system/cpu']) dir(d);
  hostFiles(tree, 'devices/system/cpu', /^(online|possible|present|offline|kernel_max)$/);
  let cpus: string[] = [];
  try {
    cpus = readdirSync('/sys/devices/system/cpu').filter((n) => /^cpu\d+$/.test(n));
  } catch {
    /* no host sysfs: no CPUs listed */
  }
  for (const c of cpus) {
    dir(`devices/system/cpu/${c}/topology`);
    hostFiles(tree, `devices/system/cpu/${c}`, /^online$/);
    hostFiles(tree, `devices/system/cpu/${c}/topology`, /./);
  }
  hostFiles(tree, 'kernel/mm/transparent_hugepage', /^(enabled|defrag|use_zero_page|hpage_pmd_size|shmem_enabled)$/);
  netTree(tree, dir, net);
  return tree;
}

/** A read-only sysfs (type 'sysfs', the tree above) or an empty cgroup2 (type 'cgroup2'). */
export class SysFs extends FileSystem {
  /** made when first walked (every run mounts /sys; few look in it) */
  private made: Map<string, SysEntry> | null = null;
  constructor(
    readonly type: 'sysfs' | 'cgroup2' = 'sysfs',
    /** the guest's network, whose interfaces class/net lists */
    readonly net: SysNet = 'host',
  ) {
    super();
  }
  private get tree(): Map<string, SysEntry> {
    this.made ??= this.type === 'sysfs' ? sysTree(this.net) : new Map<string, SysEntry>([['', { kind: 'dir' }]]);
    return this.made;
  }
  private readonly rootNode = new SysNode(this, '');
  root(): VNode {
    return this.rootNode;
  }
  entry(path: string): SysEntry | undefined {
    return this.tree.get(path);
  }
  /** the names in directory `path`, with their d_type */
  list(path: string): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    const prefix = path === '' ? '' : path + '/';
    for (const [p, e] of this.tree) if (p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) out.push([p.slice(prefix.length), e.kind === 'dir' ? DT_DIR : e.kind === 'link' ? DT_LNK : DT_REG]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }
  statfs(): Uint8Array {
    const b = Buffer.alloc(120);
    b.writeBigInt64LE(BigInt(this.type === 'sysfs' ? SYSFS_MAGIC : CGROUP2_SUPER_MAGIC), 0);
    b.writeBigInt64LE(4096n, 8);
    b.writeBigInt64LE(BigInt(NAME_MAX), 64);
    b.writeBigInt64LE(4096n, 72);
    b.writeBigInt64LE(BigInt(ST_VALID | ST_NOSUID | ST_NODEV | ST_NOEXEC), 80);
    return b;
  }
}

/** An open sysfs file or directory: procfs's open file, with sysfs's stat. */
class SysFile extends ProcFile {
  constructor(
    node: ProcNode,
    flags: number,
    private readonly vnode: SysNode,
  ) {
    super(node, flags);
  }
  override statBytes(_t: IoContext): Uint8Array {
    return this.vnode.stat();
  }
}

class SysNode extends VNode {
  constructor(
    readonly fs: SysFs,
    /** the path below the mount, '' for its root */
    readonly path: string,
  ) {
    super();
  }
  get key(): string {
    return this.path;
  }
  private get e(): SysEntry {
    return this.fs.entry(this.path) ?? fail(E.ENOENT);
  }
  get type(): number {
    const k = this.e.kind;
    return k === 'dir' ? S_IFDIR : k === 'link' ? S_IFLNK : S_IFREG;
  }
  private fields(): StatFields {
    const e = this.e;
    const now = Date.now();
    // sysfs: files are 4096 bytes long whatever they hold, owned by root
    const mode = e.kind === 'dir' ? S_IFDIR | 0o755 : e.kind === 'link' ? S_IFLNK | 0o777 : S_IFREG | e.mode;
    const size = e.kind === 'dir' || e.kind === 'link' ? 0 : 4096;
    return { dev: this.fs.dev, ino: procIno(`${this.fs.type}:${this.path}`), mode, nlink: e.kind === 'dir' ? 2 : 1, uid: 0, gid: 0, rdev: 0, size, blksize: 4096, blocks: 0, atimeMs: now, mtimeMs: now, ctimeMs: now };
  }
  stat(): Uint8Array {
    return hostStatBytes(this.fields());
  }
  override owner(): { mode: number; uid: number; gid: number } {
    return this.fields();
  }
  parent(): VNode {
    return this.path === '' ? this : new SysNode(this.fs, this.path.includes('/') ? this.path.slice(0, this.path.lastIndexOf('/')) : '');
  }
  override readlink(_t: IoContext): Buffer {
    const e = this.e;
    return e.kind === 'link' ? Buffer.from(e.target, 'latin1') : fail(E.EINVAL);
  }
  override lookup(_t: IoContext, name: string): VNode {
    if (this.e.kind !== 'dir') fail(E.ENOTDIR);
    const p = this.path === '' ? name : `${this.path}/${name}`;
    if (this.fs.entry(p) === undefined) fail(E.ENOENT);
    return new SysNode(this.fs, p);
  }
  open(t: IoContext, flags: number, loc: Loc): FileDescription {
    const e = this.e;
    const name = `/sys/${this.path}`;
    const vfs = t.vfs;
    let node: ProcNode;
    if (e.kind === 'dir') node = { kind: 'dir', name, entries: () => this.fs.list(this.path) };
    else if (e.kind === 'own') node = { kind: 'file', name, content: () => Buffer.from(e.content(vfs), 'latin1') };
    else if (e.kind === 'file') {
      node = {
        kind: 'file',
        name,
        content: () => {
          try {
            return readFileSync(e.host);
          } catch (err) {
            // the host's error for reading it (an attribute a device does not have: EINVAL)
            const code = (err as NodeJS.ErrnoException).code;
            return fail((code !== undefined ? (E as Record<string, number>)[code] : undefined) ?? E.EIO);
          }
        },
      };
    } else return fail(E.ELOOP); // the VFS follows links before it opens
    const f = new SysFile(node, flags, this);
    f.loc = loc;
    return f;
  }
  access(_t: IoContext, mode: number): void {
    const e = this.e;
    if (mode & W_OK) fail(E.EROFS);
    if (mode & X_OK && (e.kind === 'file' || e.kind === 'own')) fail(E.EACCES);
  }
}
