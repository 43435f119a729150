// Mount trees beside and across the Vfs's table: detached mounts (fsmount's,
// open_tree's clones: Linux's anonymous mount namespaces, which no path from
// the root reaches), copies of a mount with or without the mounts below it
// (copy_tree), and attaching or moving a mount with the mounts below it
// (attach_recursive_mnt), the mounts keeping their ids as Linux's do.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { MS_UNBINDABLE } from '../abi/mount.js';
import { childPath, Mount, type FileSystem, type Loc, type MountOptions, type Vfs } from './vfs.js';

/** p (a path under `from`) as the same place under `to` */
function rebase(p: string, from: string, to: string): string {
  if (p === from) return to;
  const rest = p.slice(from === '/' ? 1 : from.length + 1);
  return to === '/' ? '/' + rest : to + '/' + rest;
}

/** is p `dir` or below it */
export const under = (p: string, dir: string): boolean => dir === '/' || p === dir || p.startsWith(dir + '/');

/** A new mount of fs, the root of a detached tree of its own. */
export function detachedMount(vfs: Vfs, fs: FileSystem, opts: MountOptions): Mount {
  vfs.adopt(fs);
  const m = new Mount(vfs.nextMountId++, fs, null, '', '/', opts);
  m.detached = true;
  return m;
}

/** The mounts directly on m (the top one at each point), by id. */
export function childMounts(vfs: Vfs, m: Mount): Mount[] {
  const out: Mount[] = [];
  for (const names of vfs.byPoint.get(m.id)?.values() ?? []) out.push(...names.values());
  return out.sort((a, b) => a.id - b.id);
}

/** m and every mount below it, each parent before its children. */
export function subtree(vfs: Vfs, m: Mount): Mount[] {
  const out = [m];
  for (const c of childMounts(vfs, m)) out.push(...subtree(vfs, c));
  return out;
}

/**
 * The unbindable mounts (MS_UNBINDABLE, MOUNT_ATTR propagation): no bind
 * mount or clone of one can be made (EINVAL), and recursive copies leave
 * them out. Every other mount is private: elfrun has one mount namespace,
 * shared with nothing, and no peer groups.
 */
export const unbindable = new WeakSet<Mount>();

/** A propagation type (MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE) set on the mounts `ms`. */
export function setPropagation(ms: Mount[], type: number): void {
  for (const m of ms) {
    if (type === MS_UNBINDABLE) unbindable.add(m);
    else unbindable.delete(m);
  }
}

/** Is m in the Vfs's own tree (not detached, not unmounted)? */
export const inTable = (vfs: Vfs, m: Mount): boolean => !m.detached && vfs.mounts.includes(m);

/** The root of the detached tree m is in (null for a mount of the table). */
export function detachedRoot(m: Mount): Mount | null {
  if (!m.detached) return null;
  let r = m;
  while (r.at !== null) r = r.at.mnt;
  return r;
}

/** m goes on `name` in `dir`: the mount point's entry, and m's place. */
function link(vfs: Vfs, m: Mount, dir: Loc, name: string): void {
  let dirs = vfs.byPoint.get(dir.mnt.id);
  if (dirs === undefined) vfs.byPoint.set(dir.mnt.id, (dirs = new Map()));
  let names = dirs.get(dir.node.key);
  if (names === undefined) dirs.set(dir.node.key, (names = new Map()));
  names.set(name, m);
  m.at = dir;
  m.name = name;
  m.path = childPath(dir.path, name);
}

/** m leaves its mount point: a mount it was stacked on shows again (as Vfs.umount). */
function unlink(vfs: Vfs, m: Mount): void {
  const at = m.at;
  if (at === null) return;
  const names = vfs.byPoint.get(at.mnt.id)?.get(at.node.key);
  if (names?.get(m.name) !== m) return;
  const below = vfs.mounts.filter((o) => o !== m && o.at !== null && o.at.mnt === at.mnt && o.at.node.key === at.node.key && o.name === m.name).pop();
  if (below !== undefined) names.set(m.name, below);
  else names.delete(m.name);
}

/**
 * Attach m (the root of a detached tree, or a mount of the table, which
 * moves) on `name` in `dir`, with every mount below it; their paths follow.
 * A detached tree joins the table, its mounts in id order among the others
 * (as Linux lists a namespace's mounts).
 */
export function attach(vfs: Vfs, m: Mount, dir: Loc, name: string): void {
  vfs.lookups.walk.epoch++;
  const tree = subtree(vfs, m);
  const oldPath = m.path;
  const joining = m.detached;
  if (!joining) unlink(vfs, m);
  link(vfs, m, dir, name);
  for (const c of tree.slice(1)) {
    const at = c.at!;
    c.at = { mnt: at.mnt, node: at.node, path: rebase(at.path, oldPath, m.path) };
    c.path = rebase(c.path, oldPath, m.path);
  }
  if (!joining) return;
  for (const c of tree) {
    c.detached = false;
    const i = vfs.mounts.findIndex((o) => o.id > c.id);
    if (i < 0) vfs.mounts.push(c);
    else vfs.mounts.splice(i, 0, c);
  }
}

/** How a copy of the place `l` mounts: its file system and options (a bind mount's). */
export type CopyOf = (l: Loc) => { fs: FileSystem; opts: MountOptions };

/**
 * A detached copy of the mount at `src` showing src's directory (open_tree's
 * OPEN_TREE_CLONE, a bind mount's new mount), with copies of every mount
 * below that directory when `recursive` (copy_tree). EINVAL for a place in
 * neither the table nor a detached tree (an unmounted mount).
 */
export function copyTree(vfs: Vfs, src: Loc, recursive: boolean, copyOf: CopyOf): Mount {
  if ((!src.mnt.detached && !vfs.mounts.includes(src.mnt)) || unbindable.has(src.mnt)) fail(E.EINVAL);
  const { fs, opts } = copyOf(src);
  const root = detachedMount(vfs, fs, opts);
  if (!recursive) return root;
  const copies = new Map<Mount, Mount>([[src.mnt, root]]);
  for (const c of subtree(vfs, src.mnt).slice(1)) {
    const at = c.at!;
    const parent = copies.get(at.mnt);
    // an unbindable mount is left out, with the mounts below it (copy_tree's skip_mnt_tree)
    if (parent === undefined || (at.mnt === src.mnt && !under(c.path, src.path)) || unbindable.has(c)) continue;
    const copy = detachedMount(vfs, c.fs, { ...c.opts });
    link(vfs, copy, { mnt: parent, node: at.node, path: rebase(at.path, src.path, '/') }, c.name);
    copies.set(c, copy);
  }
  return root;
}
