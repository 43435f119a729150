// The argument and return-value decoders, one per kind of signature.ts:
// what strace prints for each. Inputs are decoded at entry (memory may
// change before the call returns), outputs at a successful exit.
import { ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS, ERESTART_RESTARTBLOCK, isRestartCode } from '../abi/restart.js';
import { AT_FDCWD } from '../abi/fcntl.js';
import type { Args } from '../cpu/args.js';
import type { ArgKind, ArgSpec, RetKind, Shape } from './signature.js';
import { PRCTL_KINDS, prctlRet } from './trace-prctl.js';
import { E, errnoMessage, errnoName } from '../abi/errno.js';
import { OPEN_FLAGS } from '../fs/flags.js';
import {
  IPC_GET_FLAGS, SHMAT_FLAGS, MSG_IPC_FLAGS, SEM_FLAGS, SHM_CMDS, SEM_CMDS, MSG_CMDS,
  ACCESS, ACCMODE, ARCHP, FLOCK_OPS, LOCK_TYPES, MFD_FLAGS, MOUNTF, UMOUNTF, SEALS, ATF, XATTRF, CAPS, CLOCKS, CLONEF, UNSHAREF, CLOSE_RANGE, EFD_FLAGS, SFD_FLAGS, IN_FLAGS, IN_MASK, TFD_FLAGS, TFD_SET_FLAGS, EPOLL_CREATE, EPOLL_CTL, FADV, FAMILIES, FCNTL, FUTEX, GRND, IDTYPE, IOCTLS,
  ITIMERS, MADV, MAP_TYPE, MAPF, MREMAPF, MPOL, MPOL_FLAGS, MSF, MSG_FLAGS, POLL_EVENTS, PRIO_WHICH, PROT, RENAMEF, RLIM, RUSAGE_WHO, SHUT, SIGHOW, SO,
  SOCK_FLAGS, SOCKTYPES, SOL, TCP_OPTS, IP_OPTS, IPV6_OPTS, IPPROTOS, NETLINK_PROTOS, STATX_MASK, STATX_SYNC, TIMER_FLAGS, WHENCE, WOPT, enumName, flagNames, openFlagBits, sigName, DN_FLAGS,
} from './trace-names.js';
import { capDataText, capHeaderText, flockText, fownerText, itimerspecText } from './trace-structs.js';
import { cloneArgsOut, cloneArgsText } from './trace-clone.js';
import { aioSigsetText, iocbsText, iocbText, ioEventsText } from './trace-aio.js';
import { waitvText, wakeOpText } from './trace-futex.js';
import { PROC_KINDS } from './trace-proc.js';
import { MOUNT_KINDS } from './trace-mount.js';
import { type DecodeCtx, addr, arrayText, at, cstr, hexNum, i32, quote, sigset, str, timeText, u32, unum } from './trace-prim.js';
import {
  argvText, bitsText, epollEventSize, epollEventText, fdsetText, iovText, itimervalText, makedev, modeText, msghdrText, nodemaskText, pollfdsText,
  rlimText, rusageText, siginfoText, sigactionText, sockaddrText, stackText, statfsText, statText, statxText, sysinfoText, tmsText, waitStatus,
} from './trace-structs.js';

export interface KindDecoder {
  /** the argument at entry */
  in(c: DecodeCtx, a: Args, i: number): string;
  /** the argument after a successful return (the kernel wrote it); null: as at entry */
  out?(c: DecodeCtx, a: Args, i: number, ret: number, entry: string): string | null;
  /** out is asked after an error too (the kernel writes the argument when it fails) */
  onError?: true;
}

/** A pointer argument as it is: NULL or its address in hex (exact, also beyond 2^53 where Args.ptr gives Infinity). */
const ptrText = (a: Args, i: number): string => hexNum(a.big(i)).replace(/^0$/, 'NULL');
const ptrIn = (_c: DecodeCtx, a: Args, i: number): string => ptrText(a, i);

/** An attribute value as strace prints one: an address past XATTR_SIZE_MAX, else its bytes without a last NUL. */
function xattrVal(c: DecodeCtx, a: Args, i: number, len: number): string {
  if (len > 65536) return ptrText(a, i);
  const p = a.ptr(i);
  const n = Math.min(len, c.strsize);
  return at(p, () => {
    const b = c.mem.read(p, n);
    return n > 0 && b[n - 1] === 0 ? quote(b.subarray(0, n - 1), false) : quote(b, len > n);
  });
}
/** An output structure: its address at entry, decoded at exit. */
const outOf = (fn: (c: DecodeCtx, p: number, a: Args, i: number, ret: number) => string): KindDecoder => ({
  in: ptrIn,
  out: (c, a, i, ret) => at(a.ptr(i), () => fn(c, a.ptr(i), a, i, ret)),
});
const named = (table: Readonly<Record<number, string>> | readonly string[], hex = false): KindDecoder => ({ in: (_c, a, i) => enumName(a.i32(i), table, hex) });
/** socket option names by level */
const OPTS_BY_LEVEL: Record<number, Record<number, string>> = { 1: SO, 6: TCP_OPTS, 0: IP_OPTS, 41: IPV6_OPTS };

/** A socket option's value that is not an int: struct linger in full, others as their bytes (as strace shows them). */
function sockoptText(c: DecodeCtx, level: number, name: number, p: number, len: number): string {
  if (p === 0) return 'NULL';
  if (level === 1 && name === 13 && len === 8) return `{l_onoff=${i32(c, p)}, l_linger=${i32(c, p + 4)}}`;
  if (level === 1 && name === 17 && len === 12) return `{pid=${i32(c, p)}, uid=${i32(c, p + 4)}, gid=${i32(c, p + 8)}}`;
  return str(c, p, Math.max(0, len));
}

/** struct mq_attr as strace shows it */
const mqattrText = (b: Buffer): string => {
  const f = b.readBigInt64LE(0);
  return `{mq_flags=${f === 0n ? '0' : f === 0o4000n ? 'O_NONBLOCK' : `${hexNum(f)} /* O_??? */`}, mq_maxmsg=${b.readBigInt64LE(8)}, mq_msgsize=${b.readBigInt64LE(16)}, mq_curmsgs=${b.readBigInt64LE(24)}}`;
};

const RESOLVE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x01, 'RESOLVE_NO_XDEV'], [0x02, 'RESOLVE_NO_MAGICLINKS'], [0x04, 'RESOLVE_NO_SYMLINKS'], [0x08, 'RESOLVE_BENEATH'], [0x10, 'RESOLVE_IN_ROOT'], [0x20, 'RESOLVE_CACHED'],
];

/**
 * openat2's struct open_how as strace shows it: the mode only with O_CREAT or
 * O_TMPFILE or when not zero; a struct larger than version 0's 24 bytes shows
 * its tail (up to the page) when any of it is not zero, "???" when unreadable.
 */
function openHowText(c: DecodeCtx, p: number, size: number): string {
  if (size < 24) return addr(p);
  return at(p, () => {
    const b = c.mem.read(p, 24);
    const flags = b.readBigUInt64LE(0);
    const mode = b.readBigUInt64LE(8);
    const resolve = b.readBigUInt64LE(16);
    const lo = Number(flags & 0xffffffffn);
    const high = flags >> 32n;
    let f = oflags(c, lo);
    if (high !== 0n) f += `|${hexNum(flags & ~0xffffffffn)}`;
    const parts = [`flags=${f}`];
    if (lo & 0o20000100 || mode !== 0n) parts.push(`mode=0${mode.toString(8).padStart(2, '0')}`);
    const r = Number(resolve & 0xffffffffn);
    parts.push(`resolve=${resolve >> 32n === 0n ? flagNames(r, RESOLVE_NAMES, '0', 'RESOLVE_???') : hexNum(resolve)}`);
    const end = Math.min(size, 4096);
    if (end > 24) {
      let tail: Buffer | null = null;
      try {
        tail = c.mem.read(p + 24, end - 24);
      } catch {
        parts.push('???');
      }
      if (tail !== null && tail.some((x) => x !== 0)) parts.push(`/* bytes 24..${end - 1} */ ${quote(tail.subarray(0, c.strsize), tail.length > c.strsize, true)}`);
    }
    return `{${parts.join(', ')}}`;
  });
}

/** struct msgbuf as strace shows it: the type, then `len` bytes of text */
const msgbufText = (c: DecodeCtx, p: number, len: number): string =>
  at(p, () => `{mtype=${c.mem.read(p, 8).readBigInt64LE(0)}, mtext=${str(c, p + 8, len)}}`);

/** A System V IPC command, with IPC_64 (0x100) named apart as strace does */
const ipcCmd = (cmd: number, table: Readonly<Record<number, string>>): string =>
  (cmd & 0x100 ? 'IPC_64|' : '') + enumName(cmd & ~0x100, table);

const bits = (table: ReadonlyArray<readonly [number, string]>, zero = '0', unknown?: string): KindDecoder => ({ in: (_c, a, i) => flagNames(a.u32(i), table, zero, unknown) });

const OPEN_BITS = { x86_64: openFlagBits(OPEN_FLAGS.x86_64), arm64: openFlagBits(OPEN_FLAGS.arm64) } as const;

function oflags(c: DecodeCtx, f: number): string {
  const rest = flagNames(f & ~3, OPEN_BITS[c.arch], '');
  return rest ? `${ACCMODE[f & 3]}|${rest}` : ACCMODE[f & 3];
}
/** open flags without an access mode (pipe2, dup3, F_SETFL): 0 when none */
const statusFlags = (c: DecodeCtx, f: number): string => oflags(c, f).replace(/^O_RDONLY\|?/, '') || '0';
const SIGEV = ['SIGEV_SIGNAL', 'SIGEV_NONE', 'SIGEV_THREAD', '0x3 /* SIGEV_??? */', 'SIGEV_THREAD_ID'];

/** struct sigevent as strace prints it: the value when not zero, the signal by name when one is sent. */
function sigeventText(c: DecodeCtx, p: number): string {
  const b = c.mem.read(p, 32);
  const value = b.readBigUInt64LE(0);
  const signo = b.readInt32LE(8);
  const notify = b.readInt32LE(12);
  const parts: string[] = [];
  if (value !== 0n) parts.push(`sigev_value={sival_int=${b.readInt32LE(0)}, sival_ptr=${hexNum(value)}}`);
  parts.push(`sigev_signo=${notify === 0 || notify === 2 || notify === 4 ? (signo === 0 ? '0' : sigName(signo)) : String(signo >>> 0)}`);
  parts.push(`sigev_notify=${SIGEV[notify] ?? `${hexNum(notify >>> 0)} /* SIGEV_??? */`}`);
  if (notify === 4) parts.push(`sigev_notify_thread_id=${b.readInt32LE(16)}`);
  if (notify === 2) parts.push(`sigev_notify_function=${addr(Number(b.readBigUInt64LE(16)))}, sigev_notify_attributes=${addr(Number(b.readBigUInt64LE(24)))}`);
  return `{${parts.join(', ')}}`;
}

/** "[v]" of one int, as strace shows an int an argument points to */
const intIn = (c: DecodeCtx, p: number): string => at(p, () => `[${i32(c, p)}]`);

const KINDS: Record<ArgKind, KindDecoder> = {
  ...PROC_KINDS,
  ...PRCTL_KINDS,
  ...MOUNT_KINDS,
  int: { in: (_c, a, i) => String(a.i32(i)) },
  uint: { in: (_c, a, i) => String(a.u32(i)) },
  hex: { in: (_c, a, i) => hexNum(a.big(i)) },
  ptr: { in: ptrIn },
  // exact beyond 2^53 (a length of -1, an offset near the end of loff_t)
  size: { in: (_c, a, i) => String(a.big(i)) },
  off: { in: (_c, a, i) => String(BigInt.asIntN(64, a.big(i))) },
  mode: { in: (_c, a, i) => `0${a.u32(i).toString(8)}` },
  umask: { in: (_c, a, i) => `0${a.u32(i).toString(8).padStart(3, '0')}` },

  fd: { in: (c, a, i) => c.fd(a.i32(i)) },
  dirfd: {
    in: (c, a, i) => {
      if (a.i32(i) !== AT_FDCWD) return c.fd(a.i32(i));
      const cwd = c.cwd();
      return cwd === null ? 'AT_FDCWD' : `AT_FDCWD<${cwd}>`;
    },
  },
  // a path is shown whole (strace's -s limits other strings, not paths)
  path: { in: (c, a, i) => cstr(c, a.ptr(i), 4096) },
  name: { in: (c, a, i) => cstr(c, a.ptr(i)) },
  fds2: outOf((c, p) => `[${c.fd(i32(c, p))}, ${c.fd(i32(c, p + 4))}]`),

  strin: { in: (c, a, i) => str(c, a.ptr(i), a.size(i + 1)) },
  xattrin: { in: (c, a, i) => xattrVal(c, a, i, a.size(i + 1)) },
  xattrout: { in: ptrIn, out: (c, a, i, ret) => xattrVal(c, a, i, Math.max(0, ret)) },
  // the buffer's size follows it; a result can pass it (recv with MSG_TRUNC gives the datagram's length)
  strout: { in: ptrIn, out: (c, a, i, ret) => str(c, a.ptr(i), Math.max(0, Math.min(ret, a.size(i + 1)))) },
  randout: { in: ptrIn, out: (c, a, i, ret) => str(c, a.ptr(i), Math.max(0, ret), true) },
  iovin: { in: (c, a, i) => iovText(c, a.ptr(i), a.i32(i + 1)) },
  iovout: { in: ptrIn, out: (c, a, i, ret) => iovText(c, a.ptr(i), a.i32(i + 1), ret) },
  argv: { in: (c, a, i) => argvText(c, a.ptr(i), false, (s) => cstr(c, s)) },
  envp: { in: (c, a, i) => argvText(c, a.ptr(i), true, (s) => cstr(c, s)) },

  oflags: { in: (c, a, i) => oflags(c, a.i32(i)) },
  statusflags: { in: (c, a, i) => statusFlags(c, a.i32(i)) },
  fdflags: { in: (_c, a, i) => (a.i32(i) & 1 ? 'FD_CLOEXEC' : '0') },
  accmode: { in: (_c, a, i) => (a.i32(i) === 0 ? 'F_OK' : flagNames(a.i32(i), ACCESS)) },
  atflags: bits(ATF),
  xattrflags: bits(XATTRF, '0', 'XATTR_???'),
  whence: named(WHENCE),
  prot: bits(PROT, 'PROT_NONE'),
  mapflags: {
    in: (_c, a, i) => {
      const f = a.u32(i);
      const rest = flagNames(f & ~0xf, MAPF, '');
      return rest ? `${MAP_TYPE[f & 3]}|${rest}` : MAP_TYPE[f & 3];
    },
  },
  msflags: bits(MSF),
  mremapflags: bits(MREMAPF),
  madvise: named(MADV),
  cloneflags: {
    in: (_c, a, i) => {
      const f = a.u32(i);
      const rest = flagNames(f & ~0xff, CLONEF, '');
      return `flags=${[rest, f & 0xff ? sigName(f & 0xff) : ''].filter(Boolean).join('|') || '0'}`;
    },
  },
  wopts: bits(WOPT),
  idtype: named(IDTYPE),
  grnd: bits(GRND),
  futexop: {
    in: (_c, a, i) => {
      const op = a.i32(i);
      return enumName(op & 0x7f, FUTEX) + (op & 128 ? '_PRIVATE' : '') + (op & 256 ? '|FUTEX_CLOCK_REALTIME' : '');
    },
  },
  ioctl: { in: (_c, a, i) => enumName(a.u32(i), IOCTLS, true) },
  fcntl: named(FCNTL),
  flockop: bits(FLOCK_OPS),
  leasetype: { in: (_c, a, i) => (LOCK_TYPES[a.i32(i)] ?? `0x${a.u32(i).toString(16)} /* F_??? */`) },
  seals: bits(SEALS, '0', 'F_SEAL_???'),
  mfdflags: bits(MFD_FLAGS, '0', 'MFD_???'),
  mountflags: bits(MOUNTF),
  umountflags: bits(UMOUNTF),
  flock: { in: (c, a, i) => flockText(c, a.ptr(i), false) },
  flockout: outOf((c, p) => flockText(c, p, true)),
  fownerex: { in: (c, a, i) => fownerText(c, a.ptr(i)) },
  fownerexout: outOf((c, p) => fownerText(c, p)),
  dnflags: bits(DN_FLAGS),
  archprctl: { in: (_c, a, i) => enumName(a.u32(i), ARCHP, true) },
  rlimres: named(RLIM),
  // an unknown id (a CPU clock by pid, an fd clock) in hex, as strace prints it
  clock: { in: (_c, a, i) => CLOCKS[a.i32(i)] ?? `${hexNum(a.u32(i))} /* CLOCK_??? */` },
  itimer: named(ITIMERS),
  prio: named(PRIO_WHICH),
  rusagewho: named(RUSAGE_WHO),
  fadvice: { in: (_c, a, i) => FADV[a.i32(i)] ?? `${hexNum(a.u32(i))} /* POSIX_FADV_??? */` },
  mpolmode: {
    in: (_c, a, i) => {
      const m = a.u32(i);
      const flags = flagNames(m & 0xe000, MPOL_FLAGS, '');
      return [enumName(m & ~0xe000, MPOL), ...(flags ? [flags] : [])].join('|');
    },
  },
  closerange: bits(CLOSE_RANGE),
  unshareflags: bits(UNSHAREF, '0', 'CLONE_???'),
  clone3args: { in: (c, a, i) => cloneArgsText(c, a.ptr(i), a.u64(i + 1)), out: (c, a, i) => cloneArgsOut(c, a.ptr(i), a.u64(i + 1)) },
  mbindflags: bits([[1, 'MPOL_MF_STRICT'], [2, 'MPOL_MF_MOVE'], [4, 'MPOL_MF_MOVE_ALL']], '0', 'MPOL_???'),
  getmpolflags: bits([[1, 'MPOL_F_NODE'], [2, 'MPOL_F_ADDR'], [4, 'MPOL_F_MEMS_ALLOWED']], '0', 'MPOL_???'),
  timerflags: bits(TIMER_FLAGS, '0', 'TIMER_???'),
  spliceflags: bits([[1, 'SPLICE_F_MOVE'], [2, 'SPLICE_F_NONBLOCK'], [4, 'SPLICE_F_MORE'], [8, 'SPLICE_F_GIFT']], '0', 'SPLICE_F_???'),
  // an loff_t the call reads (and updates): its value at entry
  offptr: { in: (c, a, i) => (a.ptr(i) === 0 ? 'NULL' : at(a.ptr(i), () => `[${c.mem.read(a.ptr(i), 8).readBigInt64LE(0)}]`)) },
  fallocmode: bits([[1, 'FALLOC_FL_KEEP_SIZE'], [2, 'FALLOC_FL_PUNCH_HOLE'], [4, 'FALLOC_FL_NO_HIDE_STALE'], [8, 'FALLOC_FL_COLLAPSE_RANGE'], [0x10, 'FALLOC_FL_ZERO_RANGE'], [0x20, 'FALLOC_FL_INSERT_RANGE'], [0x40, 'FALLOC_FL_UNSHARE_RANGE']], '0', 'FALLOC_FL_???'),
  syncrangeflags: bits([[1, 'SYNC_FILE_RANGE_WAIT_BEFORE'], [2, 'SYNC_FILE_RANGE_WRITE'], [4, 'SYNC_FILE_RANGE_WAIT_AFTER']], '0', 'SYNC_FILE_RANGE_???'),
  // (strace 6.1 does not split off SCHED_RESET_ON_FORK)
  schedpolicy: { in: (_c, a, i) => ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'][a.i32(i)] ?? `${hexNum(a.u32(i))} /* SCHED_??? */` },
  // struct sched_param: its one int
  schedparam: { in: (c, a, i) => intIn(c, a.ptr(i)) },
  // sendfile's offset: unsigned, and what the call moved it to
  sendoff: {
    in: (c, a, i) => (a.ptr(i) === 0 ? 'NULL' : at(a.ptr(i), () => `[${c.mem.read(a.ptr(i), 8).readBigUInt64LE(0)}]`)),
    out: (c, a, i, _ret, entry) => (a.ptr(i) === 0 ? null : at(a.ptr(i), () => `${entry} => [${c.mem.read(a.ptr(i), 8).readBigUInt64LE(0)}]`)),
  },
  // the flags strace 6.1 names (the later ones it prints in hex)
  rwflags: bits([[1, 'RWF_HIPRI'], [2, 'RWF_DSYNC'], [4, 'RWF_SYNC'], [8, 'RWF_NOWAIT'], [0x10, 'RWF_APPEND']], '0', 'RWF_???'),
  // the synchronisation type by name, then the AT_ flags
  statxflags: {
    in: (_c, a, i) => {
      const f = a.u32(i);
      const rest = flagNames(f & ~0x6000, ATF, '');
      return [STATX_SYNC[f & 0x6000], ...(rest ? [rest] : [])].join('|');
    },
  },
  statxmask: bits(STATX_MASK),
  renameflags: bits(RENAMEF),
  ipckey: { in: (_c, a, i) => (a.i32(i) === 0 ? 'IPC_PRIVATE' : `0x${a.u32(i).toString(16)}`) },
  // the flags, then the mode as strace's print_numeric_umode_t
  ipcflags: {
    in: (_c, a, i) => {
      const f = a.u32(i);
      const names = flagNames(f & ~0o777, IPC_GET_FLAGS, '');
      const mode = `0${(f & 0o777).toString(8).padStart(2, '0')}`;
      return names ? `${names}|${mode}` : mode;
    },
  },
  shmatflags: bits(SHMAT_FLAGS),
  msgipcflags: bits(MSG_IPC_FLAGS),
  shmcmd: { in: (_c, a, i) => ipcCmd(a.i32(i), SHM_CMDS) },
  semcmd: { in: (_c, a, i) => ipcCmd(a.i32(i), SEM_CMDS) },
  msgcmd: { in: (_c, a, i) => ipcCmd(a.i32(i), MSG_CMDS) },
  openhow: { in: (c, a, i) => openHowText(c, a.ptr(i), a.size(i + 1)) },
  mqattr: { in: (c, a, i) => (a.ptr(i) === 0 ? 'NULL' : at(a.ptr(i), () => mqattrText(c.mem.read(a.ptr(i), 32)))) },
  mqattrout: { in: ptrIn, out: (c, a, i) => (a.ptr(i) === 0 ? 'NULL' : at(a.ptr(i), () => mqattrText(c.mem.read(a.ptr(i), 32)))) },
  msgbufin: { in: (c, a, i) => msgbufText(c, a.ptr(i), a.size(i + 1)) },
  msgbufout: { in: ptrIn, out: (c, a, i) => msgbufText(c, a.ptr(i), a.size(i + 1)) },
  // struct sembuf[nsops], the count being the next argument
  sembuf: {
    in: (c, a, i) =>
      arrayText(c, a.ptr(i), Math.min(a.u32(i + 1), 1024), 6, (b) => `{sem_num=${b.readUInt16LE(0)}, sem_op=${b.readInt16LE(2)}, sem_flg=${flagNames(b.readUInt16LE(4), SEM_FLAGS, '0', 'SEM_???')}}`),
  },
  mknodmode: { in: (_c, a, i) => modeText(a.u32(i)) },
  dev: { in: (_c, a, i) => makedev(a.u64(i)) },

  sockfamily: named(FAMILIES),
  sockflags: bits(SOCK_FLAGS),
  socktype: {
    in: (_c, a, i) => {
      const v = a.i32(i);
      const flags = flagNames(v & ~0xf, SOCK_FLAGS, '');
      return [enumName(v & 0xf, SOCKTYPES), ...(flags ? [flags] : [])].join('|');
    },
  },
  msgflags: bits(MSG_FLAGS),
  shuthow: named(SHUT),
  sollevel: named(SOL),
  // option names of SOL_SOCKET (the only level elfrun's sockets have)
  sockopt: { in: (_c, a, i) => enumName(a.i32(i), OPTS_BY_LEVEL[a.i32(i - 1)] ?? {}) },
  sockproto: {
    in: (_c, a, i) => {
      const fam = a.i32(i - 2);
      const table = fam === 2 || fam === 10 ? IPPROTOS : fam === 16 ? NETLINK_PROTOS : null;
      return table === null ? String(a.i32(i)) : enumName(a.i32(i), table);
    },
  },
  epollflags: bits(EPOLL_CREATE, '0', 'EPOLL_???'),
  efdflags: bits(EFD_FLAGS, '0', 'EFD_???'),
  tfdflags: bits(TFD_FLAGS, '0', 'TFD_???'),
  sfdflags: bits(SFD_FLAGS, '0', 'SFD_???'),
  inotifyflags: bits(IN_FLAGS, '0', 'IN_???'),
  inotifymask: bits(IN_MASK, '0', 'IN_???'),
  tfdsetflags: bits(TFD_SET_FLAGS),
  itimerspec: { in: (c, a, i) => itimerspecText(c, a.ptr(i)) },
  sigevent: { in: (c, a, i) => at(a.ptr(i), () => sigeventText(c, a.ptr(i))) },
  itimerspecout: outOf((c, p) => itimerspecText(c, p)),
  epollop: named(EPOLL_CTL),
  sig: { in: (_c, a, i) => (a.i32(i) === 0 ? '0' : sigName(a.i32(i))) },
  cap: { in: (_c, a, i) => CAPS[a.u32(i)] ?? `${hexNum(a.big(i))} /* CAP_??? */` },
  // capget/capset: the header, and the sets (as many words as the header's version has)
  capheader: { in: (c, a, i) => at(a.ptr(i), () => capHeaderText(c, a.ptr(i))) },
  capdata: { in: ptrIn, out: (c, a, i) => at(a.ptr(i), () => capDataText(c, a.ptr(i), a.ptr(i - 1))) },
  capdatain: { in: (c, a, i) => at(a.ptr(i), () => capDataText(c, a.ptr(i), a.ptr(i - 1))) },
  futexval3: { in: (_c, a, i) => (a.u32(i) === 0xffffffff ? 'FUTEX_BITSET_MATCH_ANY' : hexNum(a.u32(i))) },
  futexwakeop: { in: (_c, a, i) => wakeOpText(a.u32(i)) },
  futexwaitv: { in: (c, a, i) => waitvText(c, a.ptr(i), a.u32(i + 1)) },
  futexwaitv2: { in: (c, a, i) => waitvText(c, a.ptr(i), 2) },
  childstack: { in: (_c, a, i) => `child_stack=${ptrText(a, i)}` },
  // written by the kernel: shown at exit (strace decodes clone's tids and tls then)
  parenttid: {
    in: (_c, a, i) => `parent_tid=${ptrText(a, i)}`,
    out: (c, a, i) => `parent_tid=${at(a.ptr(i), () => `[${i32(c, a.ptr(i))}]`)}`,
  },
  tls: { in: (_c, a, i) => `tls=${ptrText(a, i)}`, out: (_c, _a, _i, _r, entry) => entry },
  childtid: { in: (_c, a, i) => `child_tidptr=${ptrText(a, i)}`, out: (_c, _a, _i, _r, entry) => entry },
  sighow: named(SIGHOW),

  sigset: { in: (c, a, i) => sigset(c, a.ptr(i)) },
  sigsetsz: { in: (c, a, i) => (a.u64(i + 1) === 8 ? sigset(c, a.ptr(i)) : ptrText(a, i)) },
  sigact: { in: (c, a, i) => sigactionText(c, a.ptr(i)) },
  sigactout: outOf((c, p) => sigactionText(c, p)),
  ts: { in: (c, a, i) => timeText(c, a.ptr(i), false) },
  tv: { in: (c, a, i) => timeText(c, a.ptr(i), true) },
  // utimensat's two times, UTIME_NOW and UTIME_OMIT by name
  utimens: {
    in: (c, a, i) =>
      at(a.ptr(i), () => {
        const b = c.mem.read(a.ptr(i), 32);
        const one = (o: number): string => {
          const ns = b.readBigInt64LE(o + 8);
          return ns === 0x3fffffffn ? 'UTIME_NOW' : ns === 0x3ffffffen ? 'UTIME_OMIT' : `{tv_sec=${b.readBigInt64LE(o)}, tv_nsec=${ns}}`;
        };
        return `[${one(0)}, ${one(16)}]`;
      }),
  },
  rlim: { in: (c, a, i) => rlimText(c, a.ptr(i)) },
  itimerval: { in: (c, a, i) => itimervalText(c, a.ptr(i)) },
  sockaddr: { in: (c, a, i) => sockaddrText(c, a.ptr(i), a.u32(i + 1)) },
  // a socket option's value: an int when it is one ([65536]), else its address
  sockoptin: { in: (c, a, i) => (a.u32(i + 1) === 4 ? intIn(c, a.ptr(i)) : sockoptText(c, a.i32(i - 2), a.i32(i - 1), a.ptr(i), a.u32(i + 1))) },
  siginfo: { in: (c, a, i) => siginfoText(c, a.ptr(i)) },
  pollfds: { in: (c, a, i) => pollfdsText(c, a.ptr(i), a.u32(i + 1)) },
  epollev: { in: (c, a, i) => at(a.ptr(i), () => epollEventText(c, c.mem.read(a.ptr(i), epollEventSize(c)))) },
  msghdrin: { in: (c, a, i) => msghdrText(c, a.ptr(i)) },
  // setgroups(size, list)
  gidsin: { in: (c, a, i) => arrayText(c, a.ptr(i), a.i32(i - 1), 4, (b) => String(b.readUInt32LE(0))) },
  // sched_setaffinity(pid, size, mask)
  cpuset: { in: (c, a, i) => bitsText(c, a.ptr(i), a.size(i - 1)) },
  nodemask: { in: (c, a, i) => nodemaskText(c, a.ptr(i), a.u64(i + 1)) },
  fdset: { in: (c, a, i) => fdsetText(c, a.ptr(i), a.i32(0)) },
  // pselect6's sixth argument: a {sigmask, size} pair
  pselectmask: {
    in: (c, a, i) => at(a.ptr(i), () => `{sigmask=${sigset(c, unum(c, a.ptr(i)))}, sigsetsize=${unum(c, a.ptr(i) + 8)}}`),
  },

  stat: outOf((c, p) => statText(c, p)),
  statx: outOf((c, p) => statxText(c, p)),
  stackin: { in: (c, a, i) => at(a.ptr(i), () => stackText(c, a.ptr(i))) },
  stackout: outOf((c, p) => stackText(c, p)),
  statfs: outOf((c, p) => statfsText(c, p)),
  tsout: outOf((c, p) => timeText(c, p, false)),
  // nanosleep's rem: the time left, written when a signal ends the sleep (EINTR, a restart code)
  sleeprem: {
    in: ptrIn,
    out: (c, a, i, ret) => (a.ptr(i) !== 0 && (ret === -E.EINTR || isRestartCode(ret)) ? at(a.ptr(i), () => timeText(c, a.ptr(i), false)) : null),
    onError: true,
  },
  tvout: outOf((c, p) => timeText(c, p, true)),
  rlimout: outOf((c, p) => rlimText(c, p)),
  wstatus: { in: ptrIn, out: (c, a, i, ret) => (a.ptr(i) === 0 ? 'NULL' : ret === 0 ? null : waitStatus(i32(c, a.ptr(i)))) },
  siginfoout: outOf((c, p) => siginfoText(c, p)),
  itimervalout: outOf((c, p) => itimervalText(c, p)),
  rusage: outOf((c, p) => rusageText(c, p)),
  tms: outOf((c, p) => tmsText(c, p)),
  idout: outOf((c, p) => `[${u32(c, p)}]`),
  // getgroups(size, list): as many as it returned
  gidsout: outOf((c, p, _a, _i, ret) => arrayText(c, p, ret, 4, (b) => String(b.readUInt32LE(0)))),
  sigsetout: outOf((c, p) => sigset(c, p)),
  // sched_getaffinity returns the size of the mask it wrote
  cpusetout: outOf((c, p, _a, _i, ret) => bitsText(c, p, ret)),
  nodemaskout: outOf((c, p, a, i) => nodemaskText(c, p, a.u64(i + 1))),
  mpolout: outOf((c, p) => `[${enumName(i32(c, p), MPOL)}]`),
  ptrout: outOf((c, p) => `[${addr(unum(c, p))}]`),
  sizeout: outOf((c, p) => `[${unum(c, p)}]`),
  // a length the caller gives and the kernel changes: [110 => 2]
  socklen: {
    in: (c, a, i) => intIn(c, a.ptr(i)),
    out: (c, a, i, _ret, entry) => at(a.ptr(i), () => {
      const now = `${i32(c, a.ptr(i))}]`;
      return entry === `[${now}` ? entry : `${entry.slice(0, -1)} => ${now}`;
    }),
  },
  sockaddrout: outOf((c, p, a, i) => sockaddrText(c, p, a.ptr(i + 1) === 0 ? 0 : i32(c, a.ptr(i + 1)))),
  sockoptout: outOf((c, p, a, i) => (a.ptr(i + 1) === 0 ? addr(p) : i32(c, a.ptr(i + 1)) === 4 ? (a.i32(i - 2) === 1 && a.i32(i - 1) === 4 && i32(c, p) !== 0 ? `[${errnoName(i32(c, p))}]` : `[${i32(c, p)}]`) : sockoptText(c, a.i32(i - 2), a.i32(i - 1), p, i32(c, a.ptr(i + 1))))),
  msghdrout: outOf((c, p, _a, _i, ret) => msghdrText(c, p, ret)),
  // epoll_wait's events: as many as it returned
  // AIO: io_setup's context, io_getevents' events (as many as it returned)
  aioctxout: outOf((c, p) => `[${hexNum(c.mem.read(p, 8).readBigUInt64LE(0))}]`),
  ioevents: outOf((c, p, _a, _i, ret) => ioEventsText(c, p, ret)),
  iocbs: { in: (c, a, i) => iocbsText(c, a.ptr(i), Number(BigInt.asIntN(64, a.big(i - 1)))) },
  iocb: { in: (c, a, i) => iocbText(c, a.ptr(i), true) },
  aiosigset: { in: (c, a, i) => aioSigsetText(c, a.ptr(i)) },
  epollevs: outOf((c, p, _a, _i, ret) => arrayText(c, p, ret, epollEventSize(c), (b) => epollEventText(c, b))),
  // struct utsname: the first two fields, as strace shows it without -v
  utsname: outOf((c, p) => `{sysname=${cstr(c, p)}, nodename=${cstr(c, p + 65)}, ...}`),
  sysinfo: outOf((c, p) => sysinfoText(c, p)),
  // getdents64's buffer: the number of entries it returned, as strace shows it without -v
  dirents: {
    in: ptrIn,
    out: (c, a, i, ret) => {
      const b = c.mem.read(a.ptr(i), ret);
      let n = 0;
      for (let off = 0; off + 19 <= ret && b.readUInt16LE(off + 16) > 0; off += b.readUInt16LE(off + 16)) n++;
      return `${ptrText(a, i)} /* ${n} entries */`;
    },
  },
  // time(2)'s copy of its result
  secsout: outOf((c, p) => {
    const sec = Number(c.mem.read(p, 8).readBigInt64LE(0));
    return `[${sec} /* ${isoLocal(sec)} */]`;
  }),
  // PR_GET_NAME's buffer
  nameout: { in: (_c, a, i) => hexNum(a.big(i)), out: (c, a, i) => cstr(c, a.ptr(i)) },
};

/** The decorations strace adds to some return values. */
const RETS: Record<Exclude<RetKind, 'int' | 'fd'>, (c: DecodeCtx, a: Args, r: number) => string> = {
  hex: (_c, _a, r) => `0x${r.toString(16)}`,
  // fcntl F_GETFD, F_GETFL
  fdflags: (_c, _a, r) => (r === 0 ? '0' : `0x${r.toString(16)} (flags ${r & 1 ? 'FD_CLOEXEC' : ''}${r & ~1 ? `${r & 1 ? '|' : ''}0x${(r & ~1).toString(16)}` : ''})`),
  flflags: (c, _a, r) => `${hexNum(r)} (flags ${oflags(c, r)})`,
  lease: (_c, _a, r) => `${hexNum(r)} (${LOCK_TYPES[r] ?? '???'})`,
  seals: (_c, _a, r) => (r === 0 ? '0' : `${hexNum(r)} (seals ${flagNames(r, SEALS)})`),
  sig: (_c, _a, r) => (r === 0 ? '0' : `${r} (${sigName(r)})`),
  time: (_c, _a, r) => `${r} (${isoLocal(r)})`,
  poll: (c, a, r) => pollRet(c, a, r, false),
  ppoll: (c, a, r) => pollRet(c, a, r, true),
  select: (c, a, r) => selectRet(c, a, r, true),
  pselect6: (c, a, r) => selectRet(c, a, r, false),
  prctl: prctlRet,
};

/** "0 (Timeout)", or the fds that are ready: "1 ([{fd=3, revents=POLLIN}])", with ppoll's time left. */
function pollRet(c: DecodeCtx, a: Args, r: number, left: boolean): string {
  if (r === 0) return '0 (Timeout)';
  const p = a.ptr(0);
  const b = c.mem.read(p, 8 * Math.min(a.u32(1), 1024));
  const ready: string[] = [];
  for (let j = 0; j * 8 < b.length; j++) {
    const revents = b.readUInt16LE(8 * j + 6);
    if (revents !== 0) ready.push(`{fd=${b.readInt32LE(8 * j)}, revents=${flagNames(revents, POLL_EVENTS)}}`);
  }
  const rest = left && a.ptr(2) !== 0 ? `, left ${timeText(c, a.ptr(2), false)}` : '';
  return `${r} ([${ready.join(', ')}]${rest})`;
}

/** "0 (Timeout)", or "1 (in [0], left {...})": the sets as the call left them, and the time left. */
function selectRet(c: DecodeCtx, a: Args, r: number, usec: boolean): string {
  if (r === 0) return '0 (Timeout)';
  const parts: string[] = [];
  for (const [j, name] of [[1, 'in'], [2, 'out'], [3, 'except']] as const) {
    if (a.ptr(j) === 0) continue;
    const set = fdsetText(c, a.ptr(j), a.i32(0));
    if (set !== '[]') parts.push(`${name} ${set}`);
  }
  if (a.ptr(4) !== 0) parts.push(`left ${timeText(c, a.ptr(4), usec)}`);
  return parts.length ? `${r} (${parts.join(', ')})` : String(r);
}

/** Seconds since the epoch as strace shows them: 2026-12-04T19:11:34+0000, in local time. */
function isoLocal(sec: number): string {
  const d = new Date(sec * 1000);
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60000).toISOString().slice(0, 19);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

const isError = (r: number): boolean => r < 0 && r > -4096;

const kindOf = (spec: ArgSpec): ArgKind => (typeof spec === 'string' ? spec : spec[0]);
const regOf = (spec: ArgSpec, i: number): number => (typeof spec === 'string' ? i : spec[1]);

/** Whether an argument is written by the kernel (decoded again at exit). */
export const isOutput = (spec: ArgSpec): boolean => KINDS[kindOf(spec)].out !== undefined;

/**
 * The arguments at entry. A decoder throws on a pointer it cannot follow
 * at all (past 2^53): the argument is shown as that pointer.
 */
export function decodeInputs(c: DecodeCtx, s: Shape, a: Args): string[] {
  return s.args.map((spec, i) => {
    const reg = regOf(spec, i);
    try {
      return KINDS[kindOf(spec)].in(c, a, reg);
    } catch {
      return ptrText(a, reg);
    }
  });
}

/** The index of the first argument the kernel writes: strace shows those before it while the call waits. */
export function firstOutput(s: Shape): number {
  const i = s.args.findIndex(isOutput);
  return i < 0 ? s.args.length : i;
}

/** The arguments at exit: outputs decoded after a successful return, the rest as they were at entry. */
export function decodeOutputs(c: DecodeCtx, s: Shape, a: Args, ret: number, inputs: readonly string[]): string[] {
  const failed = isError(ret);
  return inputs.map((entry, i) => {
    const spec = s.args[i];
    const k = spec === undefined ? undefined : KINDS[kindOf(spec)];
    const out = k?.out;
    if (out === undefined || (failed && !k!.onError)) return entry;
    try {
      return out(c, a, regOf(spec, i), ret, entry) ?? entry;
    } catch {
      return entry;
    }
  });
}

/** The kernel's restart codes as strace shows an interrupted call's end. */
const RESTART_TEXT: Record<number, string> = {
  [ERESTARTSYS]: 'ERESTARTSYS (To be restarted if SA_RESTART is set)',
  [ERESTARTNOINTR]: 'ERESTARTNOINTR (To be restarted)',
  [ERESTARTNOHAND]: 'ERESTARTNOHAND (To be restarted if no handler)',
  [ERESTART_RESTARTBLOCK]: 'ERESTART_RESTARTBLOCK (Interrupted by signal)',
};

/** An int return value, or an error by name and message, or a restart. */
export function intRet(r: number): string {
  if (!isError(r)) return String(r);
  const err = -r;
  const restart = RESTART_TEXT[err];
  if (restart !== undefined) return `? ${restart}`;
  return `-1 ${errnoName(err)} (${errnoMessage(err)})`;
}

/** The return value as its kind shows it (errors as intRet). */
export function retText(c: DecodeCtx, kind: RetKind, r: number, a: Args): string {
  if (kind === 'int' || isError(r)) return intRet(r);
  if (kind === 'fd') return c.fd(r);
  try {
    return RETS[kind](c, a, r);
  } catch {
    return String(r);
  }
}
