// Extended attributes as Linux's VFS checks them (fs/xattr.c's
// xattr_permission) and as tmpfs keeps them (mm/shmem.c: the security.,
// trusted. and user. namespaces, in memory, per inode). Host files keep
// theirs in the host file system; elfrun (often root on the host) checks the
// guest's credentials first, so the host only decides what it supports.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { S_IFDIR, S_IFMT, S_IFREG, S_ISVTX } from '../abi/stat.js';
import type { IoContext } from './context.js';
import { cred, permitted, type VNode } from './vfs.js';

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

const CAP_FOWNER = 1n << 3n;
const CAP_SYS_ADMIN = 1n << 21n;
const R_OK = 4;
const W_OK = 2;

const capable = (t: IoContext, cap: bigint): boolean => t.cred.fsuid === 0 || (t.cred.caps.eff & cap) !== 0n;

/** The namespace of an attribute name, or null for one Linux has no handler for. */
export function xattrNamespace(name: string): 'security' | 'system' | 'trusted' | 'user' | null {
  const m = /^(security|system|trusted|user)\./.exec(name);
  return m === null ? null : (m[1] as 'security' | 'system' | 'trusted' | 'user');
}

/**
 * xattr_permission: may the caller read (or write) attribute `name` of
 * node? security.* and system.* are left to the file system; trusted.*
 * needs CAP_SYS_ADMIN (else EPERM to write, ENODATA to read); user.* exists
 * only on regular files and directories (the same errors), a sticky
 * directory's only for its owner; then the file's own permission.
 */
export function xattrPermission(t: IoContext, node: VNode, name: string, write: boolean): void {
  const ns = xattrNamespace(name);
  if (ns === 'security' || ns === 'system') return;
  if (ns === 'trusted') {
    if (!capable(t, CAP_SYS_ADMIN)) fail(write ? E.EPERM : E.ENODATA);
    return;
  }
  const o = node.owner(t);
  if (ns === 'user') {
    const type = o.mode & S_IFMT;
    if (type !== S_IFREG && type !== S_IFDIR) fail(write ? E.EPERM : E.ENODATA);
    if (type === S_IFDIR && o.mode & S_ISVTX && write && t.cred.fsuid !== o.uid && !capable(t, CAP_FOWNER)) fail(E.EPERM);
  }
  if (!permitted(cred(t), o.mode, o.uid, o.gid, write ? W_OK : R_OK)) fail(E.EACCES);
}

/** Whether a listing shows `name` to the caller: trusted.* only to CAP_SYS_ADMIN, as Linux's listings. */
export function xattrListed(t: IoContext, name: string): boolean {
  return xattrNamespace(name) !== 'trusted' || capable(t, CAP_SYS_ADMIN);
}

/** NUL-separated names into out (size 0: the size needed); ERANGE if it does not fit. */
export function listInto(names: string[], out: Uint8Array): number {
  const b = Buffer.from(names.map((n) => `${n}\0`).join(''), 'latin1');
  if (out.length === 0) return b.length;
  if (b.length > out.length) fail(E.ERANGE);
  out.set(b);
  return b.length;
}

/**
 * tmpfs's attributes of one inode. security.* and trusted.* and user.* are
 * kept; system.* (POSIX ACLs) is not supported here (EOPNOTSUPP), nor a
 * name of no namespace.
 */
export class XattrStore {
  private values = new Map<string, Buffer>();

  get(t: IoContext, node: VNode, name: string, out: Uint8Array): number {
    supported(name);
    xattrPermission(t, node, name, false);
    const v = this.values.get(name);
    if (v === undefined) fail(E.ENODATA);
    if (out.length === 0) return v.length;
    if (v.length > out.length) fail(E.ERANGE);
    out.set(v);
    return v.length;
  }

  list(t: IoContext, out: Uint8Array): number {
    return listInto([...this.values.keys()].filter((n) => xattrListed(t, n)), out);
  }

  set(t: IoContext, node: VNode, name: string, value: Buffer, flags: number): void {
    supported(name);
    xattrPermission(t, node, name, true);
    const had = this.values.has(name);
    if (flags & XATTR_CREATE && had) fail(E.EEXIST);
    if (flags & XATTR_REPLACE && !had) fail(E.ENODATA);
    this.values.set(name, Buffer.from(value));
  }

  remove(t: IoContext, node: VNode, name: string): void {
    supported(name);
    xattrPermission(t, node, name, true);
    if (!this.values.delete(name)) fail(E.ENODATA);
  }
}

function supported(name: string): void {
  const ns = xattrNamespace(name);
  if (ns === null || ns === 'system') fail(E.ENOTSUP);
}
