// NUMA memory policies on a machine with one memory node (node 0), as Linux
// keeps them there: the thread's policy (set_mempolicy), each mapping's
// (mbind, which splits and merges mappings as Linux's mbind_range does),
// what get_mempolicy reports of either, and migrate_pages / move_pages,
// which find every page already where it is asked to go. Policies are
// checked and kept with Linux's rules and errors; with one node they place
// nothing differently.
import type { Task } from '../../proc/task.js';
import type { Process } from '../../proc/process.js';
import type { MemPolicy } from '../../mm/vma.js';
import { PAGE } from '../../mm/layout.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { touchedPages } from '../../host/libc.js';
import { mayPtrace, partial, supported, type Def } from './util.js';

const MPOL_DEFAULT = 0;
const MPOL_PREFERRED = 1;
const MPOL_BIND = 2;
const MPOL_INTERLEAVE = 3;
const MPOL_LOCAL = 4;
const MPOL_PREFERRED_MANY = 5;
const MPOL_WEIGHTED_INTERLEAVE = 6;
/** the number of modes (enum's end), as Linux 6.9 and later have them */
const MPOL_MAX = 7;
const MPOL_F_STATIC_NODES = 1 << 15;
const MPOL_F_RELATIVE_NODES = 1 << 14;
const MPOL_F_NUMA_BALANCING = 1 << 13;
const MPOL_MODE_FLAGS = MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING;
const MPOL_F_NODE = 1;
const MPOL_F_ADDR = 2;
const MPOL_F_MEMS_ALLOWED = 4;
const MPOL_MF_STRICT = 1;
const MPOL_MF_MOVE = 2;
const MPOL_MF_MOVE_ALL = 4;
/** Debian's kernels: CONFIG_NODES_SHIFT 10 */
const MAX_NUMNODES = 1024;
/** the nodes that exist and have memory */
const ONLINE = 1n;
const CAP_SYS_NICE = 1n << 23n;

export const DEFAULT_POLICY: MemPolicy = { mode: MPOL_DEFAULT, nodes: 0n, home: -1 };

/**
 * Linux's get_nodes: a node mask of maxnode - 1 bits from guest memory
 * (EFAULT), at most a page of them (EINVAL), with no node set past
 * MAX_NUMNODES (EINVAL).
 */
function getNodes(t: Task, addr: number, maxnode: number): bigint {
  const bits = maxnode - 1;
  if (bits <= 0 || addr === 0) return 0n;
  if (bits > PAGE * 8) fail(E.EINVAL);
  const longs = Math.ceil(bits / 64);
  const b = t.mm.read(addr, longs * 8);
  let m = 0n;
  for (let i = longs - 1; i >= 0; i--) m = (m << 64n) | b.readBigUInt64LE(i * 8);
  m &= (1n << BigInt(bits)) - 1n;
  if (m >> BigInt(MAX_NUMNODES)) fail(E.EINVAL);
  return m;
}

/** sanitize_mpol_flags: the mode without its flags, and the flags (EINVAL for a bad mode or pair of flags). */
function modeOf(mode: number): { base: number; flags: number } {
  const flags = mode & MPOL_MODE_FLAGS;
  const base = mode & ~MPOL_MODE_FLAGS;
  if (base < 0 || base >= MPOL_MAX) fail(E.EINVAL);
  if (flags & MPOL_F_STATIC_NODES && flags & MPOL_F_RELATIVE_NODES) fail(E.EINVAL);
  if (flags & MPOL_F_NUMA_BALANCING && base !== MPOL_BIND && base !== MPOL_PREFERRED_MANY) fail(E.EINVAL);
  return { base, flags };
}

/**
 * mpol_new and mpol_set_nodemask: the policy a mode and node mask make
 * (null: MPOL_DEFAULT, no policy), or EINVAL. An empty preferred set is
 * local allocation; the other modes need a node that exists among theirs
 * (relative nodes are folded onto the nodes that exist, so any will do).
 */
function newPolicy(base: number, flags: number, nodes: bigint): MemPolicy | null {
  if (base === MPOL_DEFAULT) {
    if (nodes !== 0n) fail(E.EINVAL);
    return null;
  }
  let mode = base;
  if (base === MPOL_PREFERRED) {
    if (nodes === 0n) {
      if (flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)) fail(E.EINVAL);
      mode = MPOL_LOCAL;
    }
  } else if (base === MPOL_LOCAL) {
    if (nodes !== 0n || flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)) fail(E.EINVAL);
  } else if (nodes === 0n) fail(E.EINVAL);
  if (mode === MPOL_LOCAL) return { mode: MPOL_LOCAL | (flags & MPOL_F_NUMA_BALANCING), nodes: 0n, home: -1 };
  const usable = flags & MPOL_F_RELATIVE_NODES ? (nodes !== 0n ? ONLINE : 0n) : nodes & ONLINE;
  if (usable === 0n) fail(E.EINVAL);
  // the static and relative flags keep the caller's own mask (mpol_store_user_nodemask); else what exists of it
  return { mode: mode | flags, nodes: flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES) ? nodes : usable, home: -1 };
}

function setMempolicy(t: Task, mode: number, maskAddr: number, maxnode: number): number {
  const { base, flags } = modeOf(mode);
  const nodes = getNodes(t, maskAddr, maxnode);
  t.mempolicy = newPolicy(base, flags, nodes) ?? DEFAULT_POLICY;
  return 0;
}

function mbind(t: Task, start: number, len: number, mode: number, maskAddr: number, maxnode: number, mflags: number): number {
  const { base, flags } = modeOf(mode);
  // mbind takes no NUMA-balancing flag (it is the thread policy's)
  if (flags & MPOL_F_NUMA_BALANCING) fail(E.EINVAL);
  const nodes = getNodes(t, maskAddr, maxnode);
  if (mflags & ~(MPOL_MF_STRICT | MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) fail(E.EINVAL);
  if (mflags & MPOL_MF_MOVE_ALL && !(t.cred.caps.eff & CAP_SYS_NICE)) fail(E.EPERM);
  if (start % PAGE !== 0) fail(E.EINVAL);
  const end = start + Math.ceil(len / PAGE) * PAGE;
  if (!Number.isSafeInteger(end) || end < start) fail(E.EINVAL);
  if (end === start) return 0;
  const policy = newPolicy(base, flags, nodes);
  // every page of the range must be mapped (a hole: EFAULT, before anything changes)
  for (let a = start; a < end; ) a = (t.mm.find(a) ?? fail(E.EFAULT)).end;
  // one node: every page is already on a node the policy allows (MPOL_MF_STRICT holds, nothing moves)
  t.mm.setPolicy(start, end, policy ?? undefined);
  return 0;
}

/** get_policy_nodemask: the nodes a policy reports (the caller's own mask for the static and relative flags). */
function reportedNodes(p: MemPolicy): bigint {
  const base = p.mode & ~MPOL_MODE_FLAGS;
  if (base === MPOL_DEFAULT || base === MPOL_LOCAL) return 0n;
  return p.nodes;
}

function getMempolicy(t: Task, modeAddr: number, maskAddr: number, maxnode: number, addr: number, flags: number): number {
  // nr_node_ids is 1
  if (maskAddr !== 0 && maxnode < 1) fail(E.EINVAL);
  if (flags & ~(MPOL_F_NODE | MPOL_F_ADDR | MPOL_F_MEMS_ALLOWED)) fail(E.EINVAL);
  let mode: number;
  let nodes: bigint;
  if (flags & MPOL_F_MEMS_ALLOWED) {
    if (flags & (MPOL_F_NODE | MPOL_F_ADDR)) fail(E.EINVAL);
    mode = 0;
    nodes = ONLINE;
  } else {
    let pol: MemPolicy = t.mempolicy;
    const own = pol.mode !== MPOL_DEFAULT;
    if (flags & MPOL_F_ADDR) {
      const v = t.mm.find(addr) ?? fail(E.EFAULT);
      pol = v.info.policy ?? DEFAULT_POLICY;
    } else if (addr !== 0) fail(E.EINVAL);
    if (flags & MPOL_F_NODE) {
      const base = pol.mode & ~MPOL_MODE_FLAGS;
      // the node of the page at addr (faulted in), or the thread's next interleave node: node 0 either way
      if (!(flags & MPOL_F_ADDR) && !(own && pol === t.mempolicy && (base === MPOL_INTERLEAVE || base === MPOL_WEIGHTED_INTERLEAVE))) fail(E.EINVAL);
      mode = 0;
    } else mode = pol.mode;
    nodes = reportedNodes(pol);
  }
  if (modeAddr !== 0) t.mm.setI32(modeAddr, mode);
  if (maskAddr !== 0) {
    // copy_nodes_to_user: ALIGN(maxnode - 1, 64) bits, of which nr_node_ids' long holds the nodes and the rest is cleared
    const bytes = Math.ceil((maxnode - 1) / 64) * 8;
    if (bytes > PAGE) fail(E.EINVAL);
    const b = Buffer.alloc(bytes);
    if (bytes >= 8) b.writeBigUInt64LE(nodes & 0xffffffffffffffffn, 0);
    t.mm.write(maskAddr, b);
  }
  return 0;
}

/** The process `pid` names (0: the caller's), or ESRCH. */
function target(t: Task, pid: number): Process {
  if (pid === 0) return t.proc;
  const p = t.kernel.processes.get(pid);
  if (p === undefined || p.exit !== null) fail(E.ESRCH);
  return p;
}

function migratePages(t: Task, pid: number, maxnode: number, oldAddr: number, newAddr: number): number {
  getNodes(t, oldAddr, maxnode);
  const want = getNodes(t, newAddr, maxnode);
  const p = target(t, pid);
  mayPtrace(t, p);
  if (want & ~ONLINE && !(t.cred.caps.eff & CAP_SYS_NICE)) fail(E.EPERM);
  if ((want & ONLINE) === 0n) fail(E.EINVAL);
  // the pages that could not be moved: none (they are all on node 0 already)
  return 0;
}

function movePages(t: Task, pid: number, count: number, pagesAddr: number, nodesAddr: number, statusAddr: number, flags: number): number {
  if (flags & ~(MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) fail(E.EINVAL);
  const c = t.cred;
  if (flags & MPOL_MF_MOVE_ALL && !(c.caps.eff & CAP_SYS_NICE)) fail(E.EPERM);
  const p = target(t, pid);
  const o = p.cred;
  if (![c.euid, c.ruid].some((u) => u === o.suid || u === o.ruid) && !(c.caps.eff & CAP_SYS_NICE)) fail(E.EPERM);
  const space = p.mm.space;
  for (let i = 0; i < count; i++) {
    const addr = Number(t.mm.u64(pagesAddr + 8 * i));
    if (nodesAddr !== 0) {
      const node = t.mm.i32(nodesAddr + 4 * i);
      // a node that does not exist ends the call (do_pages_move's out_flush)
      if (node < 0 || node >= MAX_NUMNODES || ((1n << BigInt(node)) & ONLINE) === 0n) fail(E.ENODEV);
    }
    // a page's node, or why it has none: not mapped (EFAULT), never touched (ENOENT)
    const v = Number.isSafeInteger(addr) ? space.find(addr) : null;
    let status: number;
    if (v === null) status = -E.EFAULT;
    else {
      const page = addr - (addr % PAGE);
      const vec = touchedPages(v.hostAddr(page), PAGE);
      status = vec !== null && (vec[0] & 1) === 0 ? -E.ENOENT : 0;
    }
    t.mm.setI32(statusAddr + 4 * i, status);
  }
  return 0;
}

function setHomeNode(t: Task, start: number, len: number, home: number, flags: number): number {
  if (start % PAGE !== 0) fail(E.EINVAL);
  if (flags !== 0) fail(E.EINVAL);
  if (home < 0 || home >= MAX_NUMNODES || ((1n << BigInt(home)) & ONLINE) === 0n) fail(E.EINVAL);
  const end = start + Math.ceil(len / PAGE) * PAGE;
  if (!Number.isSafeInteger(end) || end < start) fail(E.EINVAL);
  if (end === start) return 0;
  const m = t.mm;
  // mappings without a policy are passed over; one of another mode than BIND or PREFERRED_MANY ends the call
  let err: number = E.ENOENT;
  for (const v of m.vmas.filter((v) => v.end > start && v.start < end)) {
    const pol = v.info.policy;
    if (pol === undefined) continue;
    const base = pol.mode & ~MPOL_MODE_FLAGS;
    if (base !== MPOL_BIND && base !== MPOL_PREFERRED_MANY) {
      err = E.EOPNOTSUPP;
      break;
    }
    m.setPolicy(Math.max(v.start, start), Math.min(v.end, end), { ...pol, home });
    err = 0;
  }
  if (err !== 0) fail(err);
  return 0;
}

const ONE_NODE = 'one memory node (node 0): policies are checked and kept with Linux\'s rules and errors, and place memory as Linux does on one node';

export const numaDefs: Record<string, Def> = {
  set_mempolicy: supported(['mpolmode', 'nodemask', 'size'], (t, a) => setMempolicy(t, a.i32(0), a.ptr(1), a.u64(2)), ONE_NODE),
  get_mempolicy: supported(['mpolout', 'nodemaskout', 'size', 'ptr', 'getmpolflags'], (t, a) => getMempolicy(t, a.ptr(0), a.ptr(1), a.u64(2), a.ptr(3), a.u64(4)), ONE_NODE),
  mbind: supported(['ptr', 'size', 'mpolmode', 'nodemask', 'size', 'mbindflags'], (t, a) => mbind(t, a.ptr(0), a.u64(1), a.u32(2), a.ptr(3), a.u64(4), a.u32(5)), `${ONE_NODE}; mappings split and merge by policy as Linux's do, and fork keeps them`),
  migrate_pages: supported(['int', 'size', 'nodemask', 'nodemask'], (t, a) => migratePages(t, a.i32(0), a.u64(1), a.ptr(2), a.ptr(3)), `${ONE_NODE}: every page is already on node 0, so none is left unmoved`),
  move_pages: partial(['int', 'size', 'ptr', 'ptr', 'ptr', 'mbindflags'], (t, a) => movePages(t, a.i32(0), a.u64(1), a.ptr(2), a.ptr(3), a.ptr(4), a.i32(5)), `${ONE_NODE}: a page's status is node 0, -ENOENT if it was never touched (the host's residency of the memory behind it) or -EFAULT where nothing is mapped; a page only read from anonymous memory (Linux's zero page, -EFAULT) reads as node 0`),
  set_mempolicy_home_node: supported(['ptr', 'size', 'int', 'hex'], (t, a) => setHomeNode(t, a.ptr(0), a.u64(1), a.u64(2), a.u64(3)), ONE_NODE),
};
