// Credentials of a guest process: real, effective, saved and file-system user
// and group ids, and supplementary groups, changed by the set*id calls with
// Linux's rules (an effective uid of 0 stands for CAP_SETUID/CAP_SETGID).
// The capability sets follow the uids as Linux's commoncap does (a process
// that leaves uid 0 loses them, exec gives root the bounding set) and are
// what capget and /proc/<pid>/status report, under the securebits
// (KEEP_CAPS, NO_SETUID_FIXUP, NOROOT); permission checks go by the
// effective uid.
import { readFileSync } from 'node:fs';
import koffi from '../host/ffi.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { SECURE_KEEP_CAPS as SECBIT_KEEP_CAPS, SECURE_NO_SETUID_FIXUP as SECBIT_NO_SETUID_FIXUP, SECURE_NOROOT as SECBIT_NOROOT } from '../abi/prctl.js';

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

/** capability sets, bit n for capability n */
export interface CapSets {
  eff: bigint;
  prm: bigint;
  inh: bigint;
  bnd: bigint;
  amb: bigint;
}

/** elfrun's own capability sets, from the host's /proc (the first process's) */
function hostCaps(): CapSets {
  const caps: CapSets = { eff: 0n, prm: 0n, inh: 0n, bnd: 0n, amb: 0n };
  try {
    const s = readFileSync('/proc/self/status', 'latin1');
    const get = (name: string): bigint => {
      const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(s);
      return m ? BigInt('0x' + m[1]) : 0n;
    };
    Object.assign(caps, { eff: get('CapEff'), prm: get('CapPrm'), inh: get('CapInh'), bnd: get('CapBnd'), amb: get('CapAmb') });
  } catch {
    /* no /proc: no capabilities */
  }
  return caps;
}

/** the capabilities a file-system uid of 0 carries (Linux's CAP_FS_MASK) */
const CAP_FS_MASK = (1n << 0n) | (1n << 1n) | (1n << 2n) | (1n << 3n) | (1n << 4n) | (1n << 9n) | (1n << 32n);

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
  caps: CapSets = { eff: 0n, prm: 0n, inh: 0n, bnd: 0n, amb: 0n };
  /** securebits (linux/securebits.h: NOROOT 0x1, NO_SETUID_FIXUP 0x4, KEEP_CAPS 0x10, ... each with its lock bit above) */
  securebits = 0;

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
    if (hostCred === null) {
      hostCred = new Cred(process.getuid!(), process.geteuid!(), process.getgid!(), process.getegid!(), hostGroups());
      hostCred.caps = hostCaps();
    }
    return hostCred.clone();
  }

  clone(): Cred {
    const c = new Cred(0, 0, 0, 0, this.groups);
    Object.assign(c, this, { groups: [...this.groups], caps: { ...this.caps } });
    return c;
  }

  /**
   * The capabilities after a uid change, as Linux's cap_emulate_setxuid:
   * leaving uid 0 in all of real, effective and saved drops the permitted,
   * effective and ambient sets; an effective uid leaving 0 drops the
   * effective set, one becoming 0 raises it to the permitted; the
   * file-system uid carries the file-system capabilities. KEEP_CAPS keeps
   * the permitted set (not the effective one); NO_SETUID_FIXUP keeps all.
   */
  private uidsChanged(r: number, e: number, s: number): void {
    const c = this.caps;
    if (this.securebits & SECBIT_NO_SETUID_FIXUP) return;
    if ((r === 0 || e === 0 || s === 0) && this.ruid !== 0 && this.euid !== 0 && this.suid !== 0) {
      if (!(this.securebits & SECBIT_KEEP_CAPS)) c.prm = c.eff = 0n;
      c.amb = 0n;
    }
    if (e === 0 && this.euid !== 0) c.eff = 0n;
    if (e !== 0 && this.euid === 0) c.eff = c.prm;
  }

  /** The capabilities a program gets at exec (no file capabilities, no set-id bits): cap_bprm_creds_from_file; SECURE_NOROOT gives root nothing, KEEP_CAPS ends. */
  execCaps(): void {
    const c = this.caps;
    const root = (this.euid === 0 || this.ruid === 0) && !(this.securebits & SECBIT_NOROOT);
    this.securebits &= ~SECBIT_KEEP_CAPS;
    c.prm = root ? c.bnd | c.inh | c.amb : c.amb;
    c.eff = this.euid === 0 && root ? c.prm : c.amb;
  }

  /**
   * capset: the new sets, with Linux's limits: permitted may only shrink,
   * effective stays within permitted, inheritable within the old
   * inheritable and permitted (or anything with CAP_SETPCAP) and the
   * bounding set. The ambient set keeps only what both allow.
   */
  setCaps(eff: bigint, prm: bigint, inh: bigint): void {
    const c = this.caps;
    const CAP_SETPCAP = 1n << 8n;
    if ((inh & ~(c.inh | c.prm)) !== 0n && !(c.eff & CAP_SETPCAP)) fail(E.EPERM);
    if ((inh & ~(c.inh | c.bnd)) !== 0n) fail(E.EPERM);
    if ((prm & ~c.prm) !== 0n) fail(E.EPERM);
    if ((eff & ~prm) !== 0n) fail(E.EPERM);
    Object.assign(c, { eff, prm, inh, amb: c.amb & prm & inh });
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
    const old = [this.ruid, this.euid, this.suid] as const;
    this.setuid0(uid);
    this.uidsChanged(...old);
  }
  private setuid0(uid: number): void {
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
    const before = [this.ruid, this.euid, this.suid] as const;
    this.setreuid0(r, e);
    this.uidsChanged(...before);
  }
  private setreuid0(r: number, e: number): void {
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
    const before = [this.ruid, this.euid, this.suid] as const;
    this.setresuid0(r, e, s);
    this.uidsChanged(...before);
  }
  private setresuid0(r: number, e: number, s: number): void {
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
    // the file-system capabilities follow the file-system uid (cap_task_fix_setuid)
    const c = this.caps;
    if (this.securebits & SECBIT_NO_SETUID_FIXUP) return old;
    if (old === 0 && this.fsuid !== 0) c.eff &= ~CAP_FS_MASK;
    if (old !== 0 && this.fsuid === 0) c.eff |= c.prm & CAP_FS_MASK;
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
