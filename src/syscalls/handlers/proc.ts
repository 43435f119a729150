// Process identity, limits, system information.
import { CLOCK_BOOTTIME } from '../../abi/time.js';
import { readFileSync } from 'node:fs';
import koffi from '../../host/ffi.js';
import { NR_OPEN, type Task } from '../../proc/task.js';
import type { Process } from '../../proc/process.js';
import { PROT_WRITE } from '../../abi/mman.js';
import { hostScratch } from '../../fs/transfer.js';
import { host, hostProc } from '../../host/libc.js';
import { E } from '../../abi/errno.js';
import { fail, SysError, Unsupported } from '../../abi/errors.js';
import { chk, hostOut, partial, probe, supported, type Def } from './util.js';
import { prctlSetSeccomp } from './seccomp.js';
import { archPrctlShape, prctlShape } from '../signature.js';
import type { Args } from '../../cpu/args.js';
import { PRIO_PGRP, PRIO_PROCESS, PRIO_USER, RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_NICE, RLIMIT_NOFILE, RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD } from '../../abi/resource.js';
import {
  ARCH_CET_STATUS,
  ARCH_GET_CPUID,
  ARCH_GET_FS,
  ARCH_GET_GS,
  ARCH_SET_CPUID,
  ARCH_SET_FS,
  ARCH_SET_GS,
  PR_CAPBSET_READ,
  PR_GET_DUMPABLE,
  PR_GET_NAME,
  PR_GET_NO_NEW_PRIVS,
  PR_GET_PDEATHSIG,
  PR_SET_DUMPABLE,
  PR_SET_NAME,
  PR_SET_NO_NEW_PRIVS,
  PR_GET_SECCOMP,
  PR_SET_SECCOMP,
  PR_SET_PDEATHSIG,
  PR_GET_TSC,
  PR_SET_TSC,
  PR_TSC_ENABLE,
  PR_TSC_SIGSEGV,
} from '../../abi/prctl.js';
import { CR4_TSD, MSR_MISC_FEATURES_ENABLES, X86 } from '../../cpu/x86_64.js';
import type { Cpu } from '../../cpu/engine.js';

const libc = koffi.load('libc.so.6');
const getrlimitFn = libc.func('int getrlimit(int resource, _Out_ uint64_t *rlim)');

/** The guest's limits start as the host's (a native run inherits them). */
export function hostRlimits(): Array<[bigint, bigint]> {
  const out: Array<[bigint, bigint]> = [];
  for (let r = 0; r < RLIM_NLIMITS; r++) {
    const buf = new BigUint64Array(2);
    getrlimitFn(r, buf);
    out.push([buf[0], buf[1]]);
  }
  return out;
}


function archPrctl(t: Task, a: Args): number {
  const code = a.i32(0);
  const X86_FS_BASE = 250;
  const X86_GS_BASE = 251;
  switch (code) {
    case ARCH_SET_FS:
    case ARCH_SET_GS: {
      const v = a.u64(1);
      if (v >= t.mm.layout.taskSize) fail(E.EPERM);
      t.cpu.setReg(code === ARCH_SET_FS ? X86_FS_BASE : X86_GS_BASE, v);
      return 0;
    }
    case ARCH_GET_FS:
    case ARCH_GET_GS:
      t.mm.setU64(a.ptr(1), t.cpu.regBig(code === ARCH_GET_FS ? X86_FS_BASE : X86_GS_BASE));
      return 0;
    case ARCH_GET_CPUID:
      return (t.cpu.msr(MSR_MISC_FEATURES_ENABLES, X86.MSR) & 1n) === 0n ? 1 : 0;
    case ARCH_SET_CPUID:
      // Linux answers ENODEV on a CPU without CPUID faulting: an engine without the patch's
      if (!cpuidFaulting(t.cpu)) fail(E.ENODEV);
      t.cpu.setMsr(MSR_MISC_FEATURES_ENABLES, X86.MSR, a.u64(1) !== 0 ? 0n : 1n);
      return 0;
    case ARCH_CET_STATUS:
      return fail(E.EINVAL); // what kernels without CET (and all current mainline kernels) answer
    default:
      return fail(E.EINVAL);
  }
}

/** engines whose cpuid faults when MSR_MISC_FEATURES_ENABLES says so (the patched library's) */
const faulting = new WeakMap<Cpu, boolean>();

function cpuidFaulting(cpu: Cpu): boolean {
  let ok = faulting.get(cpu);
  if (ok === undefined) {
    const was = cpu.msr(MSR_MISC_FEATURES_ENABLES, X86.MSR);
    cpu.setMsr(MSR_MISC_FEATURES_ENABLES, X86.MSR, 1n);
    ok = cpu.msr(MSR_MISC_FEATURES_ENABLES, X86.MSR) === 1n;
    cpu.setMsr(MSR_MISC_FEATURES_ENABLES, X86.MSR, was);
    faulting.set(cpu, ok);
  }
  return ok;
}

/** PR_GET_TSC/PR_SET_TSC (x86 only): CR4.TSD of the thread's CPU state, which makes rdtsc fault (SIGSEGV). */
function tscMode(t: Task, set: boolean, arg: Args): number {
  if (t.arch.name !== 'x86_64') fail(E.EINVAL);
  const cr4 = t.cpu.regBig(X86.CR4);
  if (!set) {
    t.mm.setU32(arg.ptr(1), cr4 & BigInt(CR4_TSD) ? PR_TSC_SIGSEGV : PR_TSC_ENABLE);
    return 0;
  }
  const v = arg.u32(1);
  if (v !== PR_TSC_ENABLE && v !== PR_TSC_SIGSEGV) fail(E.EINVAL);
  t.cpu.setReg(X86.CR4, v === PR_TSC_SIGSEGV ? cr4 | BigInt(CR4_TSD) : cr4 & ~BigInt(CR4_TSD));
  return 0;
}

/** fs.nr_open, or elfrun's --max-fds cap below it */
export function nrOpen(t: Task): number {
  return Math.min(NR_OPEN, t.opts.maxFds ?? NR_OPEN);
}

function prlimit(t: Task, pid: number, resource: number, newAddr: number, oldAddr: number): number {
  if (pid !== 0 && pid !== t.pid) fail(E.ESRCH);
  if (resource < 0 || resource >= RLIM_NLIMITS) fail(E.EINVAL);
  let next: [bigint, bigint] | null = null;
  if (newAddr !== 0) {
    next = [t.mm.big64(newAddr), t.mm.big64(newAddr + 8)];
    if (next[0] > next[1]) fail(E.EINVAL);
    const cur = t.rlimits[resource];
    if (next[1] > cur[1] && process.geteuid!() !== 0) fail(E.EPERM);
    if (resource === RLIMIT_NOFILE && next[1] > BigInt(nrOpen(t))) fail(E.EPERM);
  }
  if (oldAddr !== 0) {
    const [soft, hard] = t.rlimits[resource];
    t.mm.check(oldAddr, 16, PROT_WRITE);
    t.mm.setU64(oldAddr, soft);
    t.mm.setU64(oldAddr + 8, hard);
  }
  if (next) {
    t.rlimits[resource] = next;
    if (resource === RLIMIT_NOFILE) t.fds.limit = Number(next[0]);
  }
  return 0;
}

const GRND_NONBLOCK = 1;
const GRND_RANDOM = 2;
const GRND_INSECURE = 4;

function getrandom(t: Task, addr: number, len: number, flags: number): number {
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) fail(E.EINVAL);
  if ((flags & (GRND_RANDOM | GRND_INSECURE)) === (GRND_RANDOM | GRND_INSECURE)) fail(E.EINVAL);
  const n = Math.min(len, 0x1ffffff); // Linux returns at most 32 MiB - 1 per call
  if (n === 0) return 0;
  // as Linux copies to user memory: up to the first byte that cannot be
  // written (a short count, which the guest sees written), EFAULT only if that is the first
  return t.mm.prefixPieces(addr, n, PROT_WRITE, (h, m) => {
    for (let got = 0; got < m; ) {
      const r = host.getrandom(h + got, m - got);
      if (r === -E.EINTR) continue;
      if (r <= 0) fail(E.EIO);
      got += r;
    }
  });
}

/**
 * sysinfo: the host's, and under --max-memory the guest's memory as a
 * cgroup limit shows it: totalram the cap, freeram at most what the guests
 * have not committed (both in the struct's mem_unit), no shared, buffer or
 * swap memory.
 */
function sysinfo(t: Task, addr: number): number {
  const cap = t.kernel.opts.maxMemory;
  if (cap === undefined) return hostOut(t, addr, 112, (h) => chk(host.sysinfo(h)));
  const s = hostScratch();
  chk(host.sysinfo(s.addr));
  const b = Buffer.from(s.bytes.subarray(0, 112));
  const unit = b.readUInt32LE(104) || 1;
  const left = Math.max(0, Math.floor(t.kernel.commitRoom() / unit));
  b.writeBigUInt64LE(BigInt(Math.floor(cap / unit)), 32);
  b.writeBigUInt64LE(BigInt(Math.min(left, Number(b.readBigUInt64LE(40)))), 40);
  // sharedram, bufferram, totalswap, freeswap: none of the guests' own (as /proc/meminfo shows them)
  b.fill(0, 48, 80);
  t.mm.write(addr, b);
  return 0;
}

/** Up to max bytes of a string, stopping at its NUL or at the first unreadable byte after the first. */
function readUpTo(t: Task, addr: number, max: number): Buffer {
  const out: number[] = [];
  for (let i = 0; i < max; i++) {
    let c: number;
    try {
      c = t.mm.u8(addr + i);
    } catch (e) {
      if (i === 0) throw e;
      break;
    }
    if (c === 0) break;
    out.push(c);
  }
  return Buffer.from(out);
}

function prctl(t: Task, a: Args): number {
  const op = a.i32(0);
  switch (op) {
    case PR_SET_NAME: {
      // Linux copies at most 15 bytes (strncpy_from_user into a 16-byte comm)
      const name = t.mm.read(a.ptr(1), 1)[0] === 0 ? Buffer.alloc(0) : readUpTo(t, a.ptr(1), 15);
      t.comm = name.toString('latin1'); // the calling thread's name
      return 0;
    }
    case PR_GET_NAME: {
      const b = Buffer.alloc(16);
      b.write(t.comm, 0, 15, 'latin1');
      t.mm.write(a.ptr(1), b);
      return 0;
    }
    case PR_SET_PDEATHSIG: {
      const sig = a.u64(1);
      if (sig > 64) fail(E.EINVAL);
      t.proc.pdeathsig = sig;
      return 0;
    }
    case PR_GET_PDEATHSIG:
      t.mm.setI32(a.ptr(1), t.proc.pdeathsig);
      return 0;
    case PR_GET_TSC:
    case PR_SET_TSC:
      return tscMode(t, op === PR_SET_TSC, a);
    case PR_GET_DUMPABLE:
      return t.proc.dumpable;
    case PR_SET_DUMPABLE: {
      const v = a.u64(1);
      if (v !== 0 && v !== 1) fail(E.EINVAL);
      t.proc.dumpable = v;
      return 0;
    }
    case PR_SET_NO_NEW_PRIVS:
      if (a.u64(1) !== 1 || a.u64(2) || a.u64(3) || a.u64(4)) fail(E.EINVAL);
      t.proc.noNewPrivs = true;
      return 0;
    case PR_GET_SECCOMP:
      return t.seccomp?.mode ?? 0;
    case PR_SET_SECCOMP:
      return prctlSetSeccomp(t, a.u64(1), a.ptr(2));
    case PR_GET_NO_NEW_PRIVS:
      if (a.u64(1) || a.u64(2) || a.u64(3) || a.u64(4)) fail(E.EINVAL);
      return t.proc.noNewPrivs ? 1 : 0;
    case PR_CAPBSET_READ: {
      // the capability bounding set: elfrun's own, which its guest inherits
      const cap = a.u64(1);
      if (cap > capLastCap()) fail(E.EINVAL);
      return (t.cred.caps.bnd >> BigInt(cap)) & 1n ? 1 : 0;
    }
    default:
      throw new Unsupported(`prctl option ${op}`, E.EINVAL);
  }
}

/** The host kernel's CAP_LAST_CAP: the same for every Machine, read once. */
let lastCap = -1;
function capLastCap(): number {
  if (lastCap < 0) {
    try {
      lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'latin1').trim());
    } catch {
      lastCap = 40;
    }
  }
  return lastCap;
}

// ---- capget, capset ---------------------------------------------------------------

const CAP_V1 = 0x19980330;
const CAP_V2 = 0x20071026;
const CAP_V3 = 0x20080522;

/**
 * The header's version: how many 32-bit words each set has (1 or 2). An
 * unknown one is EINVAL, with the kernel's preferred version written back.
 */
function capVersion(t: Task, hdr: number): number {
  const v = t.mm.u32(hdr);
  if (v === CAP_V1) return 1;
  if (v === CAP_V2 || v === CAP_V3) return 2;
  t.mm.setU32(hdr, CAP_V3);
  return fail(E.EINVAL);
}

function capget(t: Task, hdr: number, data: number): number {
  // with no data pointer it only asks for the version: 0, even for an unknown one (written back)
  if (data === 0) {
    try {
      capVersion(t, hdr);
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== E.EINVAL) throw e;
    }
    return 0;
  }
  const words = capVersion(t, hdr);
  const pid = t.mm.i32(hdr + 4);
  if (pid < 0) fail(E.EINVAL);
  const p = pid === 0 ? t.proc : t.kernel.processes.get(pid) ?? t.kernel.tasks.get(pid)?.proc;
  if (p === undefined || p.exit !== null) fail(E.ESRCH);
  const c = p.cred.caps;
  const b = Buffer.alloc(12 * words);
  for (let i = 0; i < words; i++) {
    const shift = BigInt(32 * i);
    b.writeUInt32LE(Number((c.eff >> shift) & 0xffffffffn), 12 * i);
    b.writeUInt32LE(Number((c.prm >> shift) & 0xffffffffn), 12 * i + 4);
    b.writeUInt32LE(Number((c.inh >> shift) & 0xffffffffn), 12 * i + 8);
  }
  t.mm.write(data, b);
  return 0;
}

function capset(t: Task, hdr: number, data: number): number {
  const words = capVersion(t, hdr);
  const pid = t.mm.i32(hdr + 4);
  if (pid !== 0 && pid !== t.pid) fail(E.EPERM);
  const b = t.mm.read(data, 12 * words);
  const set = (off: number): bigint => {
    let v = 0n;
    for (let i = 0; i < words; i++) v |= BigInt(b.readUInt32LE(12 * i + off)) << BigInt(32 * i);
    return v;
  };
  // bits past the kernel's last capability are dropped, as cap_capset masks them
  const valid = (1n << BigInt(capLastCap() + 1)) - 1n;
  t.cred.setCaps(set(0) & valid, set(4) & valid, set(8) & valid);
  return 0;
}

/** The kernel's cpumask size here (nr_cpu_ids rounded up to a long): what sched_getaffinity returns. */
function cpumaskBytes(): number {
  const m = host.affinity();
  let last = 0;
  m.forEach((b, i) => b && (last = i));
  return Math.max(8, Math.ceil((last + 1) / 8) * 8);
}

function affinityTarget(t: Task, pid: number): Task {
  if (pid === 0) return t;
  const target = t.kernel.tasks.get(pid);
  if (!target) fail(E.ESRCH);
  return target;
}

function schedGetaffinity(t: Task, pid: number, len: number, addr: number): number {
  const size = cpumaskBytes();
  if (len < size || len % 8 !== 0) fail(E.EINVAL);
  if (t.kernel.isHostPid(pid)) {
    // another host process: the host's answer (libc's wrapper returns 0, the kernel the size)
    const mask = new Uint8Array(size);
    chk(hostProc.getaffinity(pid, mask));
    t.mm.write(addr, mask);
    return size;
  }
  const target = affinityTarget(t, pid);
  const mask = target.affinity ?? host.affinity().subarray(0, size);
  t.mm.write(addr, mask.subarray(0, size));
  return size;
}

function schedSetaffinity(t: Task, pid: number, len: number, addr: number): number {
  if (t.kernel.isHostPid(pid)) return chk(hostProc.setaffinity(pid, t.mm.read(addr, Math.min(len, 4096))));
  const target = affinityTarget(t, pid);
  const want = t.mm.read(addr, Math.min(len, 128));
  const allowed = host.affinity();
  const mask = new Uint8Array(cpumaskBytes());
  let any = false;
  for (let i = 0; i < mask.length && i < want.length; i++) {
    mask[i] = want[i] & allowed[i];
    if (mask[i]) any = true;
  }
  if (!any) fail(E.EINVAL);
  target.affinity = mask;
  return 0;
}

/** struct rusage (144 bytes on both arches): ru_utime and ru_stime (timevals); memory and counts are 0 */
export function rusageBytes(userMs: number, sysMs: number): Buffer {
  const b = Buffer.alloc(144);
  [userMs, sysMs].forEach((ms, i) => {
    const us = Math.round(ms * 1000);
    b.writeBigInt64LE(BigInt(Math.floor(us / 1e6)), 16 * i);
    b.writeBigInt64LE(BigInt(us % 1e6), 16 * i + 8);
  });
  return b;
}

function getrusage(t: Task, who: number, addr: number): number {
  const p = t.proc;
  const [u, s] =
    who === RUSAGE_SELF ? [p.utimeMs, p.stimeMs] : who === RUSAGE_CHILDREN ? [p.childrenUtimeMs, p.childrenStimeMs] : who === RUSAGE_THREAD ? [t.utimeNow, t.stimeNow] : fail(E.EINVAL);
  t.mm.write(addr, rusageBytes(u, s));
  return 0;
}

const CLK_TCK = 100;

/** times(2): the process's and its reaped children's user and system time in clock ticks; returns ticks since boot. */
function times(t: Task, addr: number): number {
  const ticks = (ms: number): bigint => BigInt(Math.floor((ms * CLK_TCK) / 1000));
  if (addr !== 0) {
    const p = t.proc;
    const b = Buffer.alloc(32);
    [p.utimeMs, p.stimeMs, p.childrenUtimeMs, p.childrenStimeMs].forEach((ms, i) => b.writeBigInt64LE(ticks(ms), 8 * i));
    t.mm.write(addr, b);
  }
  const s = hostScratch();
  chk(host.clockGettime(CLOCK_BOOTTIME, s.addr));
  return Number(s.dv.getBigInt64(0, true)) * CLK_TCK + Math.floor(Number(s.dv.getBigInt64(8, true)) / (1e9 / CLK_TCK));
}

const CPU_NOTE = 'ru_utime and ru_stime are kept (user: the engine running the guest; system: elfrun servicing its syscalls); memory and fault counts (ru_maxrss, ru_minflt...) are 0';

/** The processes a (which, who) pair of get/setpriority names; ESRCH if none. */
function prioTargets(t: Task, which: number, who: number): Process[] {
  const all = [...t.kernel.processes.values()].filter((p) => p.exit === null);
  let out: Process[];
  if (which === PRIO_PROCESS) out = who === 0 ? [t.proc] : all.filter((p) => p.pid === who || [...p.threads].some((x) => x.tid === who));
  else if (which === PRIO_PGRP) out = all.filter((p) => p.pgid === (who === 0 ? t.proc.pgid : who));
  else if (which === PRIO_USER) out = all.filter((p) => p.cred.ruid === (who === 0 ? t.proc.cred.euid : who));
  else return fail(E.EINVAL);
  if (out.length === 0) fail(E.ESRCH);
  return out;
}

function getpriority(t: Task, which: number, who: number): number {
  // the kernel's ABI returns 20 - nice (1..40) so that no value looks like an error
  if (which === PRIO_PROCESS && t.kernel.isHostPid(who)) return chk(hostProc.getpriority(which, who));
  return 20 - Math.min(...prioTargets(t, which, who).map((p) => p.nice));
}

function setpriority(t: Task, which: number, who: number, prio: number): number {
  if (which === PRIO_PROCESS && t.kernel.isHostPid(who)) return chk(hostProc.setpriority(which, who, prio));
  const nice = Math.max(-20, Math.min(19, prio));
  const c = t.proc.cred;
  const limit = Number(t.rlimits[RLIMIT_NICE]?.[0] ?? 0n); // 20 - the lowest nice allowed
  for (const p of prioTargets(t, which, who)) {
    if (c.euid !== 0 && c.euid !== p.cred.euid && c.euid !== p.cred.ruid) fail(E.EPERM);
    // lowering the nice value (raising priority) needs CAP_SYS_NICE or RLIMIT_NICE
    if (nice < p.nice && c.euid !== 0 && 20 - nice > limit) fail(E.EACCES);
    p.nice = nice;
  }
  return 0;
}

const CRED_NOTE = 'the ids change as on Linux and in-memory file systems check them; host files are still accessed with elfrun\'s own host ids';
const NGROUPS_MAX = 65536;

/** getresuid/getresgid: three ids out (EFAULT before any is written). */
function putIds(t: Task, addrs: number[], ids: number[]): number {
  for (const p of addrs) t.mm.check(p, 4, PROT_WRITE);
  addrs.forEach((p, i) => t.mm.setI32(p, ids[i]));
  return 0;
}

function getgroups(t: Task, size: number, list: number): number {
  const g = t.proc.cred.groups;
  if (size < 0) fail(E.EINVAL);
  if (size === 0) return g.length;
  if (size < g.length) fail(E.EINVAL);
  const b = Buffer.alloc(g.length * 4);
  g.forEach((v, i) => b.writeUInt32LE(v, i * 4));
  t.mm.write(list, b);
  return g.length;
}

function setgroups(t: Task, size: number, list: number): number {
  if (size < 0 || size > NGROUPS_MAX) fail(E.EINVAL);
  const b = size > 0 ? t.mm.read(list, size * 4) : Buffer.alloc(0);
  const g: number[] = [];
  for (let i = 0; i < size; i++) g.push(b.readUInt32LE(i * 4));
  t.proc.cred.setgroups(g);
  return 0;
}

export const procDefs: Record<string, Def> = {
  sched_getaffinity: partial(['int', 'size', 'cpusetout'], (t, a) => schedGetaffinity(t, a.i32(0), a.size(1), a.ptr(2)), 'elfrun\'s own CPUs (as a native process inherits them); a mask set is recorded, but guest tasks run one at a time whatever it says'),
  sched_setaffinity: partial(['int', 'size', 'cpuset'], (t, a) => schedSetaffinity(t, a.i32(0), a.size(1), a.ptr(2)), 'the mask is recorded (limited to elfrun\'s CPUs); guest tasks run one at a time whatever it says'),
  prctl: partial(prctlShape, prctl, 'PR_SET/GET_NAME, PR_SET/GET_PDEATHSIG (recorded), PR_SET/GET_DUMPABLE, PR_SET/GET_NO_NEW_PRIVS, PR_SET/GET_SECCOMP (as seccomp(2)), PR_CAPBSET_READ (elfrun\'s own bounding set), PR_SET/GET_TSC; other options are reported as unsupported'),
  getpid: supported([], (t) => t.pid),
  getppid: supported([], (t) => t.ppid),
  gettid: supported([], (t) => t.tid),
  getuid: supported([], (t) => t.proc.cred.ruid),
  geteuid: supported([], (t) => t.proc.cred.euid),
  getgid: supported([], (t) => t.proc.cred.rgid),
  getegid: supported([], (t) => t.proc.cred.egid),
  getresuid: supported(['idout', 'idout', 'idout'], (t, a) => putIds(t, [a.ptr(0), a.ptr(1), a.ptr(2)], [t.proc.cred.ruid, t.proc.cred.euid, t.proc.cred.suid])),
  getresgid: supported(['idout', 'idout', 'idout'], (t, a) => putIds(t, [a.ptr(0), a.ptr(1), a.ptr(2)], [t.proc.cred.rgid, t.proc.cred.egid, t.proc.cred.sgid])),
  setuid: partial(['int'], (t, a) => (t.proc.cred.setuid(a.u32(0)), 0), CRED_NOTE),
  setgid: partial(['int'], (t, a) => (t.proc.cred.setgid(a.u32(0)), 0), CRED_NOTE),
  setreuid: partial(['int', 'int'], (t, a) => (t.proc.cred.setreuid(a.u32(0), a.u32(1)), 0), CRED_NOTE),
  setregid: partial(['int', 'int'], (t, a) => (t.proc.cred.setregid(a.u32(0), a.u32(1)), 0), CRED_NOTE),
  setresuid: partial(['int', 'int', 'int'], (t, a) => (t.proc.cred.setresuid(a.u32(0), a.u32(1), a.u32(2)), 0), CRED_NOTE),
  setresgid: partial(['int', 'int', 'int'], (t, a) => (t.proc.cred.setresgid(a.u32(0), a.u32(1), a.u32(2)), 0), CRED_NOTE),
  setfsuid: partial(['int'], (t, a) => t.proc.cred.setfsuid(a.u32(0)), CRED_NOTE),
  setfsgid: partial(['int'], (t, a) => t.proc.cred.setfsgid(a.u32(0)), CRED_NOTE),
  getgroups: supported(['int', 'gidsout'], (t, a) => getgroups(t, a.i32(0), a.ptr(1))),
  getpriority: partial(['prio', 'int'], (t, a) => getpriority(t, a.i32(0), a.i32(1)), 'nice values are recorded and reported; guest tasks run one at a time whatever they are'),
  setpriority: partial(['prio', 'int', 'int'], (t, a) => setpriority(t, a.i32(0), a.i32(1), a.i32(2)), 'nice values are recorded and reported; guest tasks run one at a time whatever they are'),
  getrusage: partial(['rusagewho', 'rusage'], (t, a) => getrusage(t, a.i32(0), a.ptr(1)), CPU_NOTE),
  times: supported(['tms'], (t, a) => times(t, a.ptr(0))),
  setgroups: partial(['int', 'gidsin'], (t, a) => setgroups(t, a.i32(0), a.ptr(1)), CRED_NOTE),
  set_tid_address: supported(['ptr'], (t, a) => {
    t.clearChildTid = a.ptr(0);
    return t.tid;
  }),
  get_robust_list: supported(['int', 'ptrout', 'sizeout'], (t, a) => {
    const pid = a.i32(0);
    const target = pid === 0 ? t : t.kernel.tasks.get(pid);
    if (target === undefined || target.state === 'dead') fail(E.ESRCH);
    const c = t.proc.cred;
    if (c.euid !== 0 && c.euid !== target.proc.cred.euid) fail(E.EPERM);
    t.mm.check(a.ptr(1), 8, PROT_WRITE);
    t.mm.check(a.ptr(2), 8, PROT_WRITE);
    t.mm.setU64(a.ptr(1), target.robustList);
    t.mm.setU64(a.ptr(2), target.robustListLen || 24);
    return 0;
  }),
  set_robust_list: supported(['ptr', 'size'], (t, a) => {
    if (a.u64(1) !== 24) fail(E.EINVAL); // sizeof(struct robust_list_head)
    t.robustList = a.ptr(0);
    t.robustListLen = 24;
    return 0;
  }),
  arch_prctl: supported(archPrctlShape, archPrctl),
  capget: supported(['capheader', 'capdata'], (t, a) => capget(t, a.ptr(0), a.ptr(1))),
  capset: partial(['capheader', 'capdatain'], (t, a) => capset(t, a.ptr(0), a.ptr(1)), 'the sets are kept and reported (capget, /proc/<pid>/status) with Linux\'s rules for changing them; permission checks go by the effective uid, not by them'),
  prlimit64: supported(['int', 'rlimres', 'rlim', 'rlimout'], (t, a) => prlimit(t, a.i32(0), a.i32(1), a.ptr(2), a.ptr(3))),
  getrlimit: supported(['rlimres', 'rlimout'], (t, a) => prlimit(t, 0, a.i32(0), 0, a.ptr(1))),
  setrlimit: supported(['rlimres', 'rlim'], (t, a) => prlimit(t, 0, a.i32(0), a.ptr(1), 0)),
  getrandom: supported(['randout', 'size', 'grnd'], (t, a) => getrandom(t, a.ptr(0), a.size(1), a.u32(2))),
  sched_yield: supported([], (t) => {
    t.stopReason = 'yield'; // let the scheduler run another task
    return 0;
  }),
  // struct sysinfo is the same on x86_64 and arm64 (112 bytes)
  sysinfo: supported(['sysinfo'], (t, a) => sysinfo(t, a.ptr(0)), 'the host\'s uptime, load, memory and process count; under --max-memory, totalram is the cap and freeram at most what is left of it'),
  rseq: probe(['ptr', 'hex', 'int', 'hex'], 'glibc >= 2.35 registers rseq at start-up and runs without it on ENOSYS'),
};
