// Credentials of a guest process: real, effective, saved and file-system user
// and group ids, and supplementary groups, changed by the set*id calls with
// Linux's rules (an effective uid of 0 stands for CAP_SETUID/CAP_SETGID).
import koffi from '../host/ffi.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';

// Node's process.getgroups() adds the effective gid; the guest must see the list itself
const getgroupsFn = koffi.load('libc.so.6').func('int getgroups(int size, _Out_ uint32_t *list)');
function hostGroups(): number[] {
  const n = getgroupsFn(0, null) as number;
  if (n <= 0) return [];
  const list = new Uint32Array(n);
  const got = getgroupsFn(n, list) as number;
  return [...list.subarray(0, Math.max(0, got))];
}

const UNCHANGED = 0xffffffff; // (uid_t)-1

let hostCred: Cred | null = null;

export class Cred {
  ruid: number;
  euid: number;
  suid: number;
  fsuid: number;
  rgid: number;
  egid: number;
  sgid: number;
  fsgid: number;
  groups: number[];

  constructor(uid: number, euid: number, gid: number, egid: number, groups: number[]) {
    this.ruid = uid;
    this.euid = this.suid = this.fsuid = euid;
    this.rgid = gid;
    this.egid = this.sgid = this.fsgid = egid;
    this.groups = [...groups];
  }

  /** The host's own, for the first process. */
  static host(): Cred {
    // elfrun never changes its own ids: asked once (every new Process starts from these)
    hostCred ??= new Cred(process.getuid!(), process.geteuid!(), process.getgid!(), process.getegid!(), hostGroups());
    return hostCred.clone();
  }

  clone(): Cred {
    const c = new Cred(0, 0, 0, 0, this.groups);
    Object.assign(c, this, { groups: [...this.groups] });
    return c;
  }

  get privileged(): boolean {
    return this.euid === 0;
  }

  private uids(): number[] {
    return [this.ruid, this.euid, this.suid];
  }
  private gids(): number[] {
    return [this.rgid, this.egid, this.sgid];
  }

  setuid(uid: number): void {
    if (uid === UNCHANGED) fail(E.EINVAL);
    if (this.privileged) this.ruid = this.suid = uid;
    else if (uid !== this.ruid && uid !== this.suid) fail(E.EPERM);
    this.euid = this.fsuid = uid;
  }
  setgid(gid: number): void {
    if (gid === UNCHANGED) fail(E.EINVAL);
    if (this.privileged) this.rgid = this.sgid = gid;
    else if (gid !== this.rgid && gid !== this.sgid) fail(E.EPERM);
    this.egid = this.fsgid = gid;
  }

  setreuid(r: number, e: number): void {
    const old = this.ruid;
    if (!this.privileged) {
      if (r !== UNCHANGED && r !== this.ruid && r !== this.euid) fail(E.EPERM);
      if (e !== UNCHANGED && !this.uids().includes(e)) fail(E.EPERM);
    }
    if (r !== UNCHANGED) this.ruid = r;
    if (e !== UNCHANGED) this.euid = e;
    // the saved id follows the effective one when the real one is set or the effective one leaves it
    if (r !== UNCHANGED || (e !== UNCHANGED && e !== old)) this.suid = this.euid;
    this.fsuid = this.euid;
  }
  setregid(r: number, e: number): void {
    const old = this.rgid;
    if (!this.privileged) {
      if (r !== UNCHANGED && r !== this.rgid && r !== this.egid) fail(E.EPERM);
      if (e !== UNCHANGED && !this.gids().includes(e)) fail(E.EPERM);
    }
    if (r !== UNCHANGED) this.rgid = r;
    if (e !== UNCHANGED) this.egid = e;
    if (r !== UNCHANGED || (e !== UNCHANGED && e !== old)) this.sgid = this.egid;
    this.fsgid = this.egid;
  }

  setresuid(r: number, e: number, s: number): void {
    if (!this.privileged) for (const v of [r, e, s]) if (v !== UNCHANGED && !this.uids().includes(v)) fail(E.EPERM);
    if (r !== UNCHANGED) this.ruid = r;
    if (e !== UNCHANGED) this.euid = e;
    if (s !== UNCHANGED) this.suid = s;
    this.fsuid = this.euid;
  }
  setresgid(r: number, e: number, s: number): void {
    if (!this.privileged) for (const v of [r, e, s]) if (v !== UNCHANGED && !this.gids().includes(v)) fail(E.EPERM);
    if (r !== UNCHANGED) this.rgid = r;
    if (e !== UNCHANGED) this.egid = e;
    if (s !== UNCHANGED) this.sgid = s;
    this.fsgid = this.egid;
  }

  /** setfsuid: always returns the old value; changes it only when allowed. */
  setfsuid(uid: number): number {
    const old = this.fsuid;
    if (uid !== UNCHANGED && (this.privileged || [...this.uids(), this.fsuid].includes(uid))) this.fsuid = uid;
    return old;
  }
  setfsgid(gid: number): number {
    const old = this.fsgid;
    if (gid !== UNCHANGED && (this.privileged || [...this.gids(), this.fsgid].includes(gid))) this.fsgid = gid;
    return old;
  }

  setgroups(groups: number[]): void {
    if (!this.privileged) fail(E.EPERM);
    this.groups = groups;
  }

  inGroup(gid: number): boolean {
    return gid === this.fsgid || this.groups.includes(gid);
  }
}
