// The host thread's file-system credentials follow the guest's for the
// length of each syscall. Host files are opened, created, searched and
// removed by the host kernel, which checks permissions against elfrun's own
// credentials: when elfrun runs as root and a guest has given up root
// (setuid to another user), the host would let that guest read what only
// root may. So, while a guest whose fsuid, fsgid or groups differ from
// elfrun's makes a call, the main thread takes them on (setfsuid and
// setfsgid are per thread; the kernel drops the file-system capabilities
// with a non-zero fsuid, as for the guest), and gets its own back after.
// A non-root elfrun cannot take on other ids; it then stays itself, as the
// guest cannot have other ids than its own either.
import koffi from './ffi.js';

const libc = koffi.load('libc.so.6');
const setfsuidFn = libc.func('int setfsuid(uint32_t uid)');
const setfsgidFn = libc.func('int setfsgid(uint32_t gid)');
const setgroupsFn = libc.func('int setgroups(size_t size, const uint32_t *list)');
const getgroupsFn = libc.func('int getgroups(int size, _Out_ uint32_t *list)');

export interface FsIds {
  readonly fsuid: number;
  readonly fsgid: number;
  readonly groups: readonly number[];
}

const own: { uid: number; gid: number; groups: number[] } | null = (() => {
  if (process.geteuid?.() !== 0) return null; // only root can take on other ids
  const n = getgroupsFn(0, null) as number;
  const list = new Uint32Array(Math.max(n, 0));
  const got = n > 0 ? (getgroupsFn(n, list) as number) : 0;
  return { uid: process.geteuid(), gid: process.getegid?.() ?? 0, groups: [...list.subarray(0, Math.max(got, 0))] };
})();

let current: FsIds | null = null;

const sameGroups = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((g, i) => g === b[i]);

/** Before a guest's call: the host thread takes on its ids, if they are not elfrun's. True if it did. */
export function enterGuestIds(c: FsIds): boolean {
  if (own === null || (c.fsuid === own.uid && c.fsgid === own.gid && sameGroups(c.groups, own.groups))) return false;
  if (current === null || !sameGroups(current.groups, c.groups)) setgroupsFn(c.groups.length, Uint32Array.from(c.groups));
  setfsgidFn(c.fsgid);
  setfsuidFn(c.fsuid);
  current = { fsuid: c.fsuid, fsgid: c.fsgid, groups: [...c.groups] };
  return true;
}

/** After it: elfrun's own ids again. */
export function leaveGuestIds(): void {
  if (own === null || current === null) return;
  setfsuidFn(own.uid);
  setfsgidFn(own.gid);
  setgroupsFn(own.groups.length, Uint32Array.from(own.groups));
  current = null;
}
