// Scheduling parameters: sched_get_priority_max/min, sched_getscheduler,
// sched_setscheduler, sched_getparam, sched_setparam, sched_getattr,
// sched_setattr, sched_rr_get_interval, and getcpu. The policy and real-time
// priority of each guest thread are kept and checked as Linux's
// kernel/sched/syscalls.c checks them; elfrun's scheduler runs guest tasks
// in turn whatever they say.
import { readFileSync } from 'node:fs';
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import koffi from '../../host/ffi.js';
import { partial, supported, type Def } from './util.js';

export const SCHED_OTHER = 0;
export const SCHED_FIFO = 1;
export const SCHED_RR = 2;
export const SCHED_BATCH = 3;
export const SCHED_IDLE = 5;
export const SCHED_DEADLINE = 6;
export const SCHED_EXT = 7;
export const SCHED_RESET_ON_FORK = 0x40000000;
const SCHED_FLAG_RESET_ON_FORK = 0x01;
/** struct sched_attr: the first version's size, and Linux's own (with the utilization clamps) */
const SCHED_ATTR_SIZE_VER0 = 48;
const SCHED_ATTR_SIZE = 56;
const CAP_SYS_NICE = 1n << 23n;

interface SchedState {
  policy: number;
  priority: number;
  resetOnFork: boolean;
}
const states = new WeakMap<Task, SchedState>();
const stateOf = (t: Task): SchedState => states.get(t) ?? { policy: SCHED_OTHER, priority: 0, resetOnFork: false };

const rtPolicy = (p: number): boolean => p === SCHED_FIFO || p === SCHED_RR;
const validPolicy = (p: number): boolean => p === SCHED_OTHER || p === SCHED_BATCH || p === SCHED_IDLE || p === SCHED_EXT || rtPolicy(p) || p === SCHED_DEADLINE;

/** The thread a pid names (0: the caller): EINVAL for a negative one, ESRCH for none. */
function target(t: Task, pid: number): Task {
  if (pid < 0) fail(E.EINVAL);
  if (pid === 0) return t;
  const th = t.kernel.tasks.get(pid);
  if (th === undefined || th.state === 'dead') return fail(E.ESRCH);
  return th;
}

function priorityMax(policy: number): number {
  if (rtPolicy(policy)) return 99;
  if (validPolicy(policy)) return 0;
  return fail(E.EINVAL);
}
function priorityMin(policy: number): number {
  if (rtPolicy(policy)) return 1;
  if (validPolicy(policy)) return 0;
  return fail(E.EINVAL);
}

/** __sched_setscheduler's checks, then the new state (policy -1: keep it, as sched_setparam). */
function setScheduler(t: Task, th: Task, policy: number, priority: number, resetOnFork: boolean | null): number {
  const cur = stateOf(th);
  if (policy === -1) policy = cur.policy;
  if (!validPolicy(policy)) fail(E.EINVAL);
  // SCHED_DEADLINE needs its runtime, deadline and period (sched_setattr): not through these calls
  if (policy === SCHED_DEADLINE) fail(E.EINVAL);
  if (priority < 0 || priority > 99 || rtPolicy(policy) !== (priority !== 0)) fail(E.EINVAL);
  const privileged = (t.cred.caps.eff & CAP_SYS_NICE) !== 0n;
  if (!privileged) {
    // without CAP_SYS_NICE: another owner's thread is EPERM, and so is a raised real-time priority (RLIMIT_RTPRIO 0)
    const c = t.proc.cred;
    const o = th.proc.cred;
    if (c.euid !== o.euid && c.euid !== o.ruid) fail(E.EPERM);
    if (rtPolicy(policy) && (!rtPolicy(cur.policy) || priority > cur.priority)) fail(E.EPERM);
    if (cur.resetOnFork && resetOnFork === false) fail(E.EPERM);
  }
  states.set(th, { policy, priority, resetOnFork: resetOnFork ?? cur.resetOnFork });
  return 0;
}

function schedSetscheduler(t: Task, pid: number, policy: number, paramAddr: number): number {
  if (policy < 0 || paramAddr === 0 || pid < 0) fail(E.EINVAL);
  const priority = t.mm.i32(paramAddr);
  const th = target(t, pid);
  return setScheduler(t, th, policy & ~SCHED_RESET_ON_FORK, priority, (policy & SCHED_RESET_ON_FORK) !== 0);
}

function schedSetparam(t: Task, pid: number, paramAddr: number): number {
  if (paramAddr === 0 || pid < 0) fail(E.EINVAL);
  const priority = t.mm.i32(paramAddr);
  return setScheduler(t, target(t, pid), -1, priority, null);
}

function schedGetparam(t: Task, pid: number, paramAddr: number): number {
  if (paramAddr === 0 || pid < 0) fail(E.EINVAL);
  const s = stateOf(target(t, pid));
  t.mm.setI32(paramAddr, rtPolicy(s.policy) ? s.priority : 0);
  return 0;
}

function schedGetscheduler(t: Task, pid: number): number {
  const s = stateOf(target(t, pid));
  return s.policy | (s.resetOnFork ? SCHED_RESET_ON_FORK : 0);
}

function schedGetattr(t: Task, pid: number, addr: number, usize: number, flags: number): number {
  if (addr === 0 || pid < 0 || usize > 4096 || usize < SCHED_ATTR_SIZE_VER0 || flags !== 0) fail(E.EINVAL);
  const th = target(t, pid);
  const s = stateOf(th);
  const b = Buffer.alloc(Math.max(usize, SCHED_ATTR_SIZE));
  b.writeUInt32LE(Math.min(usize, SCHED_ATTR_SIZE), 0);
  b.writeUInt32LE(s.policy, 4);
  b.writeBigUInt64LE(s.resetOnFork ? BigInt(SCHED_FLAG_RESET_ON_FORK) : 0n, 8);
  if (!rtPolicy(s.policy)) b.writeInt32LE(th.proc.nice, 16);
  b.writeUInt32LE(rtPolicy(s.policy) ? s.priority : 0, 20);
  // the bytes past Linux's structure read as zeros (copy_struct_to_user)
  t.mm.write(addr, b.subarray(0, usize));
  return 0;
}

function schedSetattr(t: Task, pid: number, addr: number, flags: number): number {
  if (addr === 0 || pid < 0 || flags !== 0) fail(E.EINVAL);
  let size = t.mm.u32(addr);
  if (size === 0) size = SCHED_ATTR_SIZE_VER0;
  if (size < SCHED_ATTR_SIZE_VER0 || size > 4096) {
    t.mm.setU32(addr, SCHED_ATTR_SIZE);
    fail(E.E2BIG);
  }
  const b = t.mm.read(addr, Math.min(size, SCHED_ATTR_SIZE));
  const policy = b.readUInt32LE(4);
  const sflags = b.readBigUInt64LE(8);
  const nice = b.readInt32LE(16);
  const priority = b.readUInt32LE(20);
  // the flags beyond SCHED_FLAG_RESET_ON_FORK (reclaim, deadline overrun, KEEP_*, utilization clamps) are not kept
  if (sflags & ~BigInt(SCHED_FLAG_RESET_ON_FORK)) fail(E.EINVAL);
  const th = target(t, pid);
  setScheduler(t, th, policy, priority, (sflags & BigInt(SCHED_FLAG_RESET_ON_FORK)) !== 0n);
  if (!rtPolicy(policy)) {
    const n = Math.max(-20, Math.min(19, nice));
    if (n < th.proc.nice && !(t.cred.caps.eff & CAP_SYS_NICE)) fail(E.EPERM);
    th.proc.nice = n;
  }
  return 0;
}

/** /proc/sys/kernel/sched_rr_timeslice_ms of the host (Linux's default: 100) */
let rrSliceMs: number | null = null;

function rrInterval(t: Task, pid: number, tsAddr: number): number {
  const s = stateOf(target(t, pid));
  let ns = 0;
  if (s.policy === SCHED_RR) {
    if (rrSliceMs === null) {
      try {
        rrSliceMs = Number(readFileSync('/proc/sys/kernel/sched_rr_timeslice_ms', 'latin1').trim()) || 100;
      } catch {
        rrSliceMs = 100;
      }
    }
    ns = rrSliceMs * 1e6;
  }
  // SCHED_FIFO: 0 (no slice); the fair policies: what the host's scheduler gives elfrun's own thread
  else if (s.policy !== SCHED_FIFO) ns = hostRrInterval();
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(Math.floor(ns / 1e9)), 0);
  b.writeBigInt64LE(BigInt(ns % 1e9), 8);
  t.mm.write(tsAddr, b);
  return 0;
}

let hostRr: ((pid: number, ts: Int32Array) => number) | null = null;
let hostGetcpu: ((cpu: Uint32Array, node: Uint32Array) => number) | null = null;
function hostRrInterval(): number {
  hostRr ??= koffi.load('libc.so.6').func('int sched_rr_get_interval(int pid, _Out_ int32_t *ts)') as (pid: number, ts: Int32Array) => number;
  const ts = new Int32Array(4);
  if (hostRr(0, ts) !== 0) return 0;
  return ts[0] * 1e9 + ts[2];
}

/** getcpu: the host CPU elfrun runs the guest on, and its NUMA node */
function getcpu(t: Task, cpuAddr: number, nodeAddr: number): number {
  hostGetcpu ??= koffi.load('libc.so.6').func('int getcpu(_Out_ uint32_t *cpu, _Out_ uint32_t *node)') as (cpu: Uint32Array, node: Uint32Array) => number;
  const cpu = new Uint32Array(1);
  const node = new Uint32Array(1);
  hostGetcpu(cpu, node);
  if (cpuAddr !== 0) t.mm.setU32(cpuAddr, cpu[0]);
  if (nodeAddr !== 0) t.mm.setU32(nodeAddr, node[0]);
  return 0;
}

const NOTE = 'the policy and priority of guest threads are kept and checked as Linux checks them (not inherited across fork or clone); elfrun runs guest tasks in turn whatever they say';

export const schedDefs: Record<string, Def> = {
  sched_get_priority_max: supported(['schedpolicy'], (_t, a) => priorityMax(a.i32(0))),
  sched_get_priority_min: supported(['schedpolicy'], (_t, a) => priorityMin(a.i32(0))),
  sched_getscheduler: partial(['int'], (t, a) => schedGetscheduler(t, a.i32(0)), NOTE),
  sched_setscheduler: partial(['int', 'schedpolicy', 'schedparam'], (t, a) => schedSetscheduler(t, a.i32(0), a.i32(1), a.ptr(2)), NOTE),
  sched_getparam: partial(['int', 'idout'], (t, a) => schedGetparam(t, a.i32(0), a.ptr(1)), NOTE),
  sched_setparam: partial(['int', 'schedparam'], (t, a) => schedSetparam(t, a.i32(0), a.ptr(1)), NOTE),
  sched_getattr: partial(['int', 'ptr', 'uint', 'uint'], (t, a) => schedGetattr(t, a.i32(0), a.ptr(1), a.u32(2), a.u32(3)), `${NOTE}; SCHED_DEADLINE's times and the utilization clamps read as 0`),
  sched_setattr: partial(['int', 'ptr', 'uint'], (t, a) => schedSetattr(t, a.i32(0), a.ptr(1), a.u32(2)), `${NOTE}; SCHED_DEADLINE and the flags beyond SCHED_FLAG_RESET_ON_FORK are EINVAL`),
  sched_rr_get_interval: partial(['int', 'tsout'], (t, a) => rrInterval(t, a.i32(0), a.ptr(1)), NOTE),
  getcpu: supported(['idout', 'idout', 'ptr'], (t, a) => getcpu(t, a.ptr(0), a.ptr(1)), 'the host CPU and node elfrun runs on'),
};
