// /proc/mounts (and /proc/<pid>/mounts): the guest's mount table in Linux's
// format. A host directory shows as the host file system holding it, with
// the host's mounts below it that no guest mount hides.
import { readFileSync } from 'node:fs';
import { HostFs } from '../fs/hostfs.js';
import { unbindable } from '../fs/mounttree.js';
import type { Mount, Vfs } from '../fs/vfs.js';

interface MountLine {
  source: string;
  point: string;
  type: string;
  opts: string;
}

/** /proc/mounts escapes space, tab, newline and backslash as octal */
const unescape = (f: string): string => f.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
const escape = (p: string): string => p.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));

/** The host's mount table, as its /proc/self/mounts lists it. */
function hostMounts(): MountLine[] {
  try {
    return readFileSync('/proc/self/mounts', 'latin1')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [source, point, type, opts] = l.split(' ');
        return { source: unescape(source), point: unescape(point), type, opts };
      });
  } catch {
    return [];
  }
}

/**
 * A mount's own options as show_mnt_opts prints them, after rw or ro: the
 * mount's read-only flag (mountinfo), or the file system's too (/proc/mounts).
 */
export function mountOptions(m: Mount, withSuper: boolean): string {
  const o = m.opts;
  const ro = withSuper ? m.readonly : o.readonly === true;
  const flags: Array<[boolean | undefined, string]> = [
    [o.nosuid, 'nosuid'], [o.nodev, 'nodev'], [o.noexec, 'noexec'], [o.atime === 'noatime', 'noatime'], [o.nodiratime, 'nodiratime'], [o.atime === undefined, 'relatime'], [o.nosymfollow, 'nosymfollow'],
  ];
  return [ro ? 'ro' : 'rw', ...flags.filter(([on]) => on === true).map(([, n]) => n)].join(',');
}

/** the file system's options mountinfo shows: rw or ro as the file system is, then its own */
const superOpts = (m: Mount): string => (m.fs.sbReadonly ? 'ro' : 'rw') + (m.opts.fsOpts ?? 'rw').replace(/^r[wo]/, '');

/** a host mount's options with the guest mount's flags: ro for a read-only mount, nosuid/nodev/noexec added where missing */
function withFlags(opts: string, m: Mount): string {
  const list = (m.readonly ? opts.replace(/^rw\b/, 'ro') : opts).split(',');
  const at = list[0] === 'rw' || list[0] === 'ro' ? 1 : 0;
  for (const f of ['noexec', 'nodev', 'nosuid'] as const) if (m.opts[f] === true && !list.includes(f)) list.splice(at, 0, f);
  return list.join(',');
}

const under = (p: string, dir: string): boolean => dir === '/' || p === dir || p.startsWith(dir + '/');

/** The text of /proc/mounts for the tree `vfs`. */
export function mountsText(vfs: Vfs): Buffer {
  const mounts = vfs.visibleMounts();
  const host = mounts.some((m) => m.fs instanceof HostFs) ? hostMounts() : [];
  const hidden = (guestPath: string, self: Mount): boolean => mounts.some((m) => m !== self && m.path !== '/' && under(guestPath, m.path) && !under(self.path, m.path));
  const lines: string[] = [];
  const add = (l: MountLine, m: Mount): void => {
    lines.push(`${escape(l.source)} ${escape(l.point)} ${l.type} ${withFlags(l.opts, m)} 0 0\n`);
  };
  for (const m of mounts) {
    if (!(m.fs instanceof HostFs)) {
      // /proc/mounts: the mount's flags, then the file system's options past rw
      const fsOpts = (m.opts.fsOpts ?? 'rw').split(',').slice(1);
      lines.push(`${escape(m.opts.source ?? m.fs.type)} ${escape(m.path)} ${m.fs.type} ${[mountOptions(m, true), ...fsOpts].join(',')} 0 0\n`);
      continue;
    }
    const root = m.fs.hostRoot;
    const base = host.filter((h) => under(root, h.point)).reduce<MountLine | null>((best, h) => (best === null || h.point.length >= best.point.length ? h : best), null);
    add(base ? { ...base, point: m.path } : { source: m.opts.source ?? root, point: m.path, type: 'hostfs', opts: 'rw' }, m);
    for (const h of host) {
      if (h.point === root || !under(h.point, root) || h.point === base?.point) continue;
      const g = m.path === '/' ? h.point.slice(root === '/' ? 0 : root.length) : m.path + h.point.slice(root.length);
      if (!hidden(g, m)) add({ ...h, point: g }, m);
    }
  }
  return Buffer.from(lines.join(''), 'latin1');
}

/** A line of the host's /proc/self/mountinfo. */
interface InfoLine {
  id: number;
  parent: number;
  dev: string;
  root: string;
  point: string;
  opts: string;
  /** the file system's type, source and options (after the separator's dash) */
  type: string;
  source: string;
  superOpts: string;
}

function hostMountinfo(): InfoLine[] {
  try {
    return readFileSync('/proc/self/mountinfo', 'latin1')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const f = l.split(' ');
        const dash = f.indexOf('-');
        return {
          id: Number(f[0]), parent: Number(f[1]), dev: f[2], root: unescape(f[3]), point: unescape(f[4]), opts: f[5],
          type: f[dash + 1], source: unescape(f[dash + 2]), superOpts: f[dash + 3],
        };
      });
  } catch {
    return [];
  }
}

/** host mount ids are shown past the guest's own, so that the two never meet */
const HOST_ID_BASE = 1000;

/**
 * One mount as mountinfo shows it (and statmount/listmount answer for it):
 * its id and its parent's, the device, its root within the file system, its
 * place, its own options, whether it is unbindable, the file system's type,
 * source and options. `mount` is the guest mount it is, or (a host mount
 * below a host directory) the one it is seen through.
 */
export interface MountEntry extends InfoLine {
  unbindable: boolean;
  mount: Mount;
  /** a host mount shown below a guest mount of a host directory */
  host: boolean;
}

/**
 * The guest's mounts in mountinfo's order: the guest's mounts with their
 * ids, parents and anonymous devices; a host directory as the host mount
 * holding it (its root the directory within that mount), with the host
 * mounts below it that no guest mount hides.
 */
export function mountEntries(vfs: Vfs): MountEntry[] {
  const mounts = vfs.visibleMounts();
  const host = mounts.some((m) => m.fs instanceof HostFs) ? hostMountinfo() : [];
  const hidden = (guestPath: string, self: Mount): boolean => mounts.some((m) => m !== self && m.path !== '/' && under(guestPath, m.path) && !under(self.path, m.path));
  const out: MountEntry[] = [];
  const rootId = mounts[0]?.id ?? 1;
  for (const m of mounts) {
    const parent = m.at?.mnt.id ?? rootId;
    const own = { id: m.id, parent, point: m.path, unbindable: unbindable.has(m), mount: m, host: false };
    if (!(m.fs instanceof HostFs)) {
      out.push({ ...own, dev: `0:${m.fs.dev}`, root: m.opts.bindPath ?? '/', opts: mountOptions(m, false), type: m.fs.type, source: m.opts.source ?? m.fs.type, superOpts: superOpts(m) });
      continue;
    }
    const root = m.fs.hostRoot;
    const base = host.filter((h) => under(root, h.point)).reduce<InfoLine | null>((best, h) => (best === null || h.point.length >= best.point.length ? h : best), null);
    if (base === null) {
      out.push({ ...own, dev: `0:${m.fs.dev}`, root, opts: withFlags('rw', m), type: 'hostfs', source: m.opts.source ?? root, superOpts: 'rw' });
      continue;
    }
    const within = base.point === '/' ? root : root.slice(base.point.length) || '/';
    const baseRoot = base.root === '/' ? within : within === '/' ? base.root : base.root + within;
    out.push({ ...own, dev: base.dev, root: baseRoot, opts: withFlags(base.opts, m), type: base.type, source: base.source, superOpts: base.superOpts });
    const shown = new Set<number>([base.id]);
    for (const h of host) {
      if (h.point === root || !under(h.point, root) || h.id === base.id) continue;
      const g = m.path === '/' ? h.point.slice(root === '/' ? 0 : root.length) : m.path + h.point.slice(root.length);
      if (hidden(g, m)) continue;
      const hp = shown.has(h.parent) ? (h.parent === base.id ? m.id : HOST_ID_BASE + h.parent) : m.id;
      shown.add(h.id);
      out.push({ id: HOST_ID_BASE + h.id, parent: hp, dev: h.dev, root: h.root, point: g, opts: withFlags(h.opts, m), unbindable: false, type: h.type, source: h.source, superOpts: h.superOpts, mount: m, host: true });
    }
  }
  return out;
}

/** The text of /proc/<pid>/mountinfo for the tree `vfs`. */
export function mountinfoText(vfs: Vfs): Buffer {
  const lines = mountEntries(vfs).map(
    (e) => `${e.id} ${e.parent} ${e.dev} ${escape(e.root)} ${escape(e.point)} ${e.opts}${e.unbindable ? ' unbindable' : ''} - ${e.type} ${escape(e.source)} ${e.superOpts}\n`,
  );
  return Buffer.from(lines.join(''), 'latin1');
}
