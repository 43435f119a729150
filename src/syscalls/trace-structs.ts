// Decoders of the structures syscalls pass, each printed the way strace 6
// prints it. Where strace's full decoding is long (struct stat, statfs,
// rusage) it shows the fields a reader looks at, then "...", as strace does
// without -v.
import { ARM64_SYSCALLS, X86_64_SYSCALLS } from '../abi/numbers.js';
import {
  BUS_ADRALN,
  BUS_ADRERR,
  BUS_MCEERR_AO,
  BUS_MCEERR_AR,
  BUS_OBJERR,
  FPE_CONDTRAP,
  FPE_FLTDIV,
  FPE_FLTINV,
  FPE_FLTOVF,
  FPE_FLTRES,
  FPE_FLTSUB,
  FPE_FLTUND,
  FPE_FLTUNK,
  FPE_INTDIV,
  FPE_INTOVF,
  ILL_BADIADDR,
  ILL_BADSTK,
  ILL_COPROC,
  ILL_ILLADR,
  ILL_ILLOPC,
  ILL_ILLOPN,
  ILL_ILLTRP,
  ILL_PRVOPC,
  ILL_PRVREG,
  SEGV_ACCADI,
  SEGV_ACCERR,
  SEGV_ADIDERR,
  SEGV_ADIPERR,
  SEGV_BNDERR,
  SEGV_MAPERR,
  SEGV_MTEAERR,
  SEGV_MTESERR,
  SEGV_PKUERR,
  SIG,
  SIGRTMIN,
  TRAP_BRANCH,
  TRAP_BRKPT,
  TRAP_HWBKPT,
  TRAP_PERF,
  TRAP_TRACE,
  TRAP_UNK,
} from '../abi/signal.js';
import {
  byValue,
  CAPS,
  CLD_CODES, EPOLL_EVENTS, FAMILIES, FAULT_SIGNALS, FS_MAGIC, MSG_FLAGS, POLL_EVENTS, S_IFMT, S_ISXXX, SAF, SI_CODES, SS_FLAGS, ST_FLAGS, STATX_ATTRS,
  STATX_MASK, LOCK_TYPES, OWNER_TYPES, WHENCE, enumName, flagNames, sigName,
} from './trace-names.js';
import { type DecodeCtx, addr, arrayText, at, hexNum, i32, maskText, str, timeAt, u32, u64, unum } from './trace-prim.js';

/** The type and permission bits of a mode: S_IFREG|S_ISUID|0755. */
export function modeText(mode: number): string {
  const names = [S_IFMT[mode & 0o170000] ?? '0', ...S_ISXXX.filter(([b]) => mode & b).map(([, n]) => n)];
  return `${names.join('|')}|0${(mode & 0o777).toString(8)}`;
}

/** A device number (the common case: major below 4096, minor below 256). */
export const makedev = (dev: number): string => `makedev(0x${((dev >>> 8) & 0xfff).toString(16)}, 0x${(dev & 0xff).toString(16)})`;

/** struct stat (x86_64's layout, or asm-generic's on arm64): the type and mode, then the size or the device. */
export function statText(c: DecodeCtx, p: number): string {
  const x86 = c.arch === 'x86_64';
  const mode = u32(c, p + (x86 ? 24 : 16));
  const type = mode & 0o170000;
  if (type === 0o20000 || type === 0o60000) return `{st_mode=${modeText(mode)}, st_rdev=${makedev(unum(c, p + (x86 ? 40 : 32)))}, ...}`;
  return `{st_mode=${modeText(mode)}, st_size=${c.mem.read(p + 48, 8).readBigInt64LE(0)}, ...}`;
}

/** struct statx: the mask, attributes, mode and size, then "..." (strace without -v). */
export function statxText(c: DecodeCtx, p: number): string {
  const b = c.mem.read(p, 48);
  const attrs = Number(b.readBigUInt64LE(8) & 0xffffffffn);
  return `{stx_mask=${flagNames(b.readUInt32LE(0), STATX_MASK)}, stx_attributes=${flagNames(attrs, STATX_ATTRS)}, stx_mode=${modeText(b.readUInt16LE(28))}, stx_size=${b.readBigUInt64LE(40)}, ...}`;
}

/** stack_t (sigaltstack). */
export function stackText(c: DecodeCtx, p: number): string {
  const b = c.mem.read(p, 24);
  return `{ss_sp=${addr(Number(b.readBigUInt64LE(0)))}, ss_flags=${flagNames(b.readInt32LE(8), SS_FLAGS)}, ss_size=${b.readBigUInt64LE(16)}}`;
}

/** struct statfs (the same 120 bytes on both arches). */
export function statfsText(c: DecodeCtx, p: number): string {
  const b = c.mem.read(p, 120);
  const n = (o: number): bigint => b.readBigUInt64LE(o);
  const type = Number(n(0));
  const fsid = `{val=[${hexNum(b.readUInt32LE(56))}, ${hexNum(b.readUInt32LE(60))}]}`;
  return (
    `{f_type=${enumName(type, FS_MAGIC, true)}, f_bsize=${n(8)}, f_blocks=${n(16)}, f_bfree=${n(24)}, f_bavail=${n(32)}, ` +
    `f_files=${n(40)}, f_ffree=${n(48)}, f_fsid=${fsid}, f_namelen=${n(64)}, f_frsize=${n(72)}, f_flags=${flagNames(Number(n(80)), ST_FLAGS)}}`
  );
}

/** The si_code names of the fault signals, by signal and code, as strace prints them. */
const FAULT_CODES: Record<number, Record<number, string>> = {
  [SIG.SIGSEGV]: byValue({ SEGV_MAPERR, SEGV_ACCERR, SEGV_BNDERR, SEGV_PKUERR, SEGV_ACCADI, SEGV_ADIDERR, SEGV_ADIPERR, SEGV_MTEAERR, SEGV_MTESERR }),
  [SIG.SIGBUS]: byValue({ BUS_ADRALN, BUS_ADRERR, BUS_OBJERR, BUS_MCEERR_AR, BUS_MCEERR_AO }),
  [SIG.SIGILL]: byValue({ ILL_ILLOPC, ILL_ILLOPN, ILL_ILLADR, ILL_ILLTRP, ILL_PRVOPC, ILL_PRVREG, ILL_COPROC, ILL_BADSTK, ILL_BADIADDR }),
  [SIG.SIGFPE]: byValue({ FPE_INTDIV, FPE_INTOVF, FPE_FLTDIV, FPE_FLTOVF, FPE_FLTUND, FPE_FLTRES, FPE_FLTINV, FPE_FLTSUB, FPE_FLTUNK, FPE_CONDTRAP }),
  [SIG.SIGTRAP]: byValue({ TRAP_BRKPT, TRAP_TRACE, TRAP_BRANCH, TRAP_HWBKPT, TRAP_UNK, TRAP_PERF }),
};

const POLL_CODES = ['POLL_IN', 'POLL_OUT', 'POLL_MSG', 'POLL_ERR', 'POLL_PRI', 'POLL_HUP'];

/** struct f_owner_ex (fcntl F_SETOWN_EX, F_GETOWN_EX) */
export function fownerText(c: DecodeCtx, p: number): string {
  return at(p, () => {
    const b = c.mem.read(p, 8);
    const type = b.readInt32LE(0);
    return `{type=${OWNER_TYPES[type] ?? `${hexNum(type >>> 0)} /* F_OWNER_??? */`}, pid=${b.readInt32LE(4)}}`;
  });
}

/** The fields of a siginfo_t (128 bytes, signal number `sig`) as strace prints them, without the braces. */
export function siginfoBody(sig: number, info: Uint8Array): string {
  const dv = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const code = dv.getInt32(8, true);
  let body = `si_signo=${sigName(sig)}, si_code=`;
  const sender = (): string => `, si_pid=${dv.getInt32(16, true)}, si_uid=${dv.getUint32(20, true)}`;
  const faultAddr = (): string => {
    const a = dv.getBigUint64(16, true);
    return a === 0n ? 'NULL' : `0x${a.toString(16)}`;
  };
  if (sig === SIG.SIGCHLD && code >= 1 && code <= 6) {
    body += CLD_CODES[code];
    const status = dv.getInt32(24, true);
    // clock ticks, with strace's comment in seconds (USER_HZ 100) when not 0
    const ticks = (o: number): string => {
      const v = dv.getBigInt64(o, true);
      return v === 0n ? '0' : `${v} /* ${v / 100n}.${String(v % 100n).padStart(2, '0')} s */`;
    };
    body += `${sender()}, si_status=${code === 1 ? status : sigName(status)}, si_utime=${ticks(32)}, si_stime=${ticks(40)}`;
  } else if (code === 0 || code === -6) {
    body += SI_CODES[code] + sender();
  } else if (code === -1) {
    // sigqueue: the value as both of its union's members
    body += `SI_QUEUE${sender()}, si_int=${dv.getInt32(24, true)}, si_ptr=${addr(Number(dv.getBigUint64(24, true)))}`;
  } else if (code === 0x80) {
    // a fault signal shows its si_addr even when the kernel sent it itself
    body += 'SI_KERNEL' + (FAULT_SIGNALS.has(sig) ? `, si_addr=${faultAddr()}` : '');
  } else if (sig === SIG.SIGSYS && code === 1) {
    // SYS_SECCOMP: the filter's data, the call's address, number and arch
    const errno = dv.getInt32(4, true);
    const arch = dv.getUint32(28, true);
    const nr = dv.getInt32(24, true);
    const name = (arch === 0xc000003e ? X86_64_SYSCALLS : arch === 0xc00000b7 ? ARM64_SYSCALLS : {})[nr];
    body += `SYS_SECCOMP${errno !== 0 ? `, si_errno=${errno}` : ''}, si_call_addr=${faultAddr()}, si_syscall=${name !== undefined ? `__NR_${name}` : nr}, si_arch=${arch === 0xc000003e ? 'AUDIT_ARCH_X86_64' : arch === 0xc00000b7 ? 'AUDIT_ARCH_AARCH64' : hexNum(arch)}`;
  } else if (FAULT_SIGNALS.has(sig)) {
    body += `${FAULT_CODES[sig]?.[code] ?? code}, si_addr=${faultAddr()}`;
  } else if (sig === SIG.SIGIO && code >= 1 && code <= 6) {
    // O_ASYNC's signal: the poll band and the fd
    body += `${POLL_CODES[code - 1]}, si_band=${dv.getBigInt64(16, true)}, si_fd=${dv.getInt32(24, true)}`;
  } else if (sig >= SIGRTMIN && code > 0 && code < 0x80) {
    // a kernel code on a real-time signal (F_SETSIG's): strace reads it as a sigqueue's fields
    body += `0x${code.toString(16)}${sender()}, si_int=${dv.getInt32(24, true)}, si_ptr=${addr(Number(dv.getBigUint64(24, true)))}`;
  } else body += SI_CODES[code] ?? String(code);
  return body;
}

/** A siginfo_t in guest memory: {} while si_signo is 0 (waitid with nothing to report). */
export function siginfoText(c: DecodeCtx, p: number): string {
  return at(p, () => {
    const info = c.mem.read(p, 128);
    const sig = info.readInt32LE(0);
    return sig === 0 ? '{}' : `{${siginfoBody(sig, info)}}`;
  });
}

/** A wait status as strace's printstatus shows it: stopped, killed, exited or continued, then any other bits. */
export function waitStatus(s: number): string {
  let rest = s;
  let head: string;
  if ((s & 0xff) === 0x7f) {
    const sig = (s >> 8) & 0xff;
    head = `[{WIFSTOPPED(s) && WSTOPSIG(s) == ${sigName(sig & 0x7f)}${sig & 0x80 ? ' | 0x80' : ''}}`;
    rest &= ~0xff7f;
  } else if ((s & 0x7f) !== 0 && (s & 0x7f) !== 0x7f) {
    head = `[{WIFSIGNALED(s) && WTERMSIG(s) == ${sigName(s & 0x7f)}${s & 0x80 ? ' && WCOREDUMP(s)' : ''}}`;
    rest &= ~0xff;
  } else if ((s & 0x7f) === 0) {
    head = `[{WIFEXITED(s) && WEXITSTATUS(s) == ${(s >> 8) & 0xff}}`;
    rest &= ~0xff00;
  } else if ((s & 0xffff) === 0xffff) {
    head = '[{WIFCONTINUED(s)}';
    rest &= ~0xffff;
  } else return `[0x${(s >>> 0).toString(16)}]`;
  // (strace names a ptrace event in bits 16 and up; elfrun has no ptrace)
  return rest !== 0 ? `${head} | 0x${(rest >>> 0).toString(16)}]` : `${head}]`;
}

/** struct sigaction (the kernel's: handler, flags, restorer, mask). */
export function sigactionText(c: DecodeCtx, p: number): string {
  return at(p, () => {
    const b = c.mem.read(p, 32);
    const h = b.readBigUInt64LE(0);
    const handler = h === 0n ? 'SIG_DFL' : h === 1n ? 'SIG_IGN' : `0x${h.toString(16)}`;
    const flags = Number(b.readBigUInt64LE(8) & 0xffffffffn);
    const restorer = flags & 0x4000000 ? `, sa_restorer=0x${b.readBigUInt64LE(16).toString(16)}` : '';
    return `{sa_handler=${handler}, sa_mask=${maskText(b.readBigUInt64LE(24))}, sa_flags=${flagNames(flags, SAF)}${restorer}}`;
  });
}

/** An IPv6 address as inet_ntop writes it (the longest run of zero groups as ::). */
function ipv6Text(b: Buffer): string {
  const g = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * A socket address of len bytes, as strace prints it: AF_UNIX, AF_INET,
 * AF_INET6 and AF_NETLINK in full, a too-short address (and other families)
 * as its sa_data bytes.
 */
export function sockaddrText(c: DecodeCtx, p: number, len: number): string {
  return at(p, () => {
    const raw = c.mem.read(p, Math.min(len, 128));
    const fam = raw.readUInt16LE(0);
    const famName = FAMILIES[fam] ?? String(fam);
    if (fam === 2 && len >= 16) return `{sa_family=AF_INET, sin_port=htons(${raw.readUInt16BE(2)}), sin_addr=inet_addr("${raw[4]}.${raw[5]}.${raw[6]}.${raw[7]}")}`;
    if (fam === 10 && len >= 28) {
      return `{sa_family=AF_INET6, sin6_port=htons(${raw.readUInt16BE(2)}), sin6_flowinfo=htonl(${raw.readUInt32BE(4)}), inet_pton(AF_INET6, "${ipv6Text(raw.subarray(8, 24))}", &sin6_addr), sin6_scope_id=${raw.readUInt32LE(24)}}`;
    }
    if (fam === 16 && len >= 12) return `{sa_family=AF_NETLINK, nl_pid=${raw.readUInt32LE(4)}, nl_groups=${raw.readUInt32LE(8).toString(16).padStart(8, '0')}}`;
    if (fam !== 1) return `{sa_family=${famName}, sa_data=${str(c, p + 2, Math.max(0, len - 2))}}`;
    const body = raw.subarray(2);
    if (body.length === 0) return '{sa_family=AF_UNIX}';
    if (body[0] === 0) return `{sa_family=AF_UNIX, sun_path=@${JSON.stringify(body.subarray(1).toString('latin1'))}}`;
    const end = body.indexOf(0);
    return `{sa_family=AF_UNIX, sun_path=${JSON.stringify((end < 0 ? body : body.subarray(0, end)).toString('latin1'))}}`;
  });
}

/** An iovec array of n entries; with `limit`, only that many bytes of data in all (what a read returned). */
export function iovText(c: DecodeCtx, p: number, n: number, limit = Infinity): string {
  return at(p, () => {
    const parts: string[] = [];
    let left = limit;
    for (let j = 0; j < Math.min(n, 32); j++) {
      const base = unum(c, p + 16 * j);
      const len = unum(c, p + 16 * j + 8);
      const shown = Math.min(len, Math.max(0, left));
      left -= shown;
      parts.push(`{iov_base=${str(c, base, shown)}, iov_len=${len}}`);
    }
    return `[${parts.join(', ')}${n > 32 ? ', ...' : ''}]`;
  });
}

/**
 * A msghdr's control messages as strace prints them: SCM_RIGHTS as the fds,
 * SCM_CREDENTIALS as the struct ucred, others as their bytes.
 */
function cmsgText(c: DecodeCtx, p: number, len: number): string {
  const parts: string[] = [];
  for (let off = 0; off + 16 <= len; ) {
    const h = c.mem.read(p + off, 16);
    const clen = Number(h.readBigUInt64LE(0));
    const level = h.readInt32LE(8);
    const type = h.readInt32LE(12);
    const sol = level === 1;
    const typeName = sol && type === 1 ? 'SCM_RIGHTS' : sol && type === 2 ? 'SCM_CREDENTIALS' : String(type);
    const dlen = Math.max(0, Math.min(clen, len - off) - 16);
    let data = '';
    if (sol && type === 1) {
      const d = c.mem.read(p + off + 16, dlen - (dlen % 4));
      // strace shows 32 elements of an array, then "..."
      const n = d.length / 4;
      data = `, cmsg_data=[${Array.from({ length: Math.min(n, 32) }, (_, i) => d.readInt32LE(i * 4)).join(', ')}${n > 32 ? ', ...' : ''}]`;
    } else if (sol && type === 2 && dlen >= 12) {
      const d = c.mem.read(p + off + 16, 12);
      data = `, cmsg_data={pid=${d.readInt32LE(0)}, uid=${d.readUInt32LE(4)}, gid=${d.readUInt32LE(8)}}`;
    } else if (dlen > 0) data = `, cmsg_data=${str(c, p + off + 16, dlen)}`;
    parts.push(`{cmsg_len=${clen}, cmsg_level=${sol ? 'SOL_SOCKET' : level}, cmsg_type=${typeName}${data}}`);
    if (clen < 16) break;
    off += (clen + 7) & ~7;
  }
  return `[${parts.join(', ')}]`;
}

/** struct msghdr; `limit` as for iovText; its control messages decoded as strace decodes them. */
export function msghdrText(c: DecodeCtx, p: number, limit = Infinity): string {
  return at(p, () => {
    const b = c.mem.read(p, 56);
    const name = Number(b.readBigUInt64LE(0));
    const namelen = b.readUInt32LE(8);
    const iovlen = Number(b.readBigUInt64LE(24));
    const control = Number(b.readBigUInt64LE(32));
    const controllen = Number(b.readBigUInt64LE(40));
    const nameText = name === 0 ? 'NULL' : sockaddrText(c, name, namelen);
    const ctl = controllen > 0 ? `msg_control=${controllen >= 16 && control !== 0 ? at(control, () => cmsgText(c, control, controllen)) : addr(control)}, ` : '';
    return (
      `{msg_name=${nameText}, msg_namelen=${namelen}, msg_iov=${iovText(c, Number(b.readBigUInt64LE(16)), iovlen, limit)}, msg_iovlen=${iovlen}, ` +
      `${ctl}msg_controllen=${controllen}, msg_flags=${flagNames(b.readInt32LE(48), MSG_FLAGS)}}`
    );
  });
}

/** struct epoll_event (packed on x86_64, 16 bytes with padding on arm64). */
export const epollEventSize = (c: DecodeCtx): number => (c.arch === 'x86_64' ? 12 : 16);
export function epollEventText(c: DecodeCtx, b: Buffer): string {
  const data = b.readBigUInt64LE(c.arch === 'x86_64' ? 4 : 8);
  return `{events=${flagNames(b.readUInt32LE(0), EPOLL_EVENTS)}, data={u32=${Number(data & 0xffffffffn)}, u64=${data}}}`;
}

/** struct pollfd[n] with the events asked for. */
export function pollfdsText(c: DecodeCtx, p: number, n: number): string {
  return at(p, () => {
    const parts: string[] = [];
    for (let j = 0; j < Math.min(n, 16); j++) {
      const ev = u32(c, p + 8 * j + 4) & 0xffff;
      parts.push(`{fd=${i32(c, p + 8 * j)}, events=${flagNames(ev, POLL_EVENTS)}}`);
    }
    return `[${parts.join(', ')}]`;
  });
}

/** struct rusage: the two times, then "..." (strace without -v). */
export function rusageText(c: DecodeCtx, p: number): string {
  return at(p, () => {
    const b = c.mem.read(p, 32);
    return `{ru_utime=${timeAt(b, 0, true)}, ru_stime=${timeAt(b, 16, true)}, ...}`;
  });
}

export function itimerspecText(c: DecodeCtx, p: number): string {
  return at(p, () => {
    const b = c.mem.read(p, 32);
    return `{it_interval=${timeAt(b, 0, false)}, it_value=${timeAt(b, 16, false)}}`;
  });
}

export function itimervalText(c: DecodeCtx, p: number): string {
  return at(p, () => {
    const b = c.mem.read(p, 32);
    return `{it_interval=${timeAt(b, 0, true)}, it_value=${timeAt(b, 16, true)}}`;
  });
}

/** struct sysinfo, every field (strace shows them all). */
export function sysinfoText(c: DecodeCtx, p: number): string {
  const b = c.mem.read(p, 112);
  const n = (o: number): bigint => b.readBigUInt64LE(o);
  return (
    `{uptime=${b.readBigInt64LE(0)}, loads=[${n(8)}, ${n(16)}, ${n(24)}], totalram=${n(32)}, freeram=${n(40)}, sharedram=${n(48)}, ` +
    `bufferram=${n(56)}, totalswap=${n(64)}, freeswap=${n(72)}, procs=${b.readUInt16LE(80)}, totalhigh=${n(88)}, freehigh=${n(96)}, mem_unit=${b.readUInt32LE(104)}}`
  );
}

export function tmsText(c: DecodeCtx, p: number): string {
  return at(p, () => {
    const b = c.mem.read(p, 32);
    const f = (o: number): bigint => b.readBigInt64LE(o);
    return `{tms_utime=${f(0)}, tms_stime=${f(8)}, tms_cutime=${f(16)}, tms_cstime=${f(24)}}`;
  });
}

export function rlimText(c: DecodeCtx, p: number): string {
  const fmt = (v: bigint): string => (v === 0xffffffffffffffffn ? 'RLIM64_INFINITY' : v % 1024n === 0n && v > 0n ? `${v / 1024n}*1024` : String(v));
  return at(p, () => `{rlim_cur=${fmt(u64(c, p))}, rlim_max=${fmt(u64(c, p + 8))}}`);
}

/** The numbers of the bits set in a bitmap of `bytes` bytes: fd_set, cpu_set_t ("[0 1]"). */
export function bitsText(c: DecodeCtx, p: number, bytes: number, sep = ' '): string {
  return at(p, () => {
    const b = c.mem.read(p, bytes);
    const set: number[] = [];
    for (let j = 0; j < bytes * 8; j++) if (b[j >> 3] & (1 << (j & 7))) set.push(j);
    return `[${set.join(sep)}]`;
  });
}

/** An fd_set of nfds bits. */
export const fdsetText = (c: DecodeCtx, p: number, nfds: number): string => (p === 0 ? 'NULL' : bitsText(c, p, Math.ceil(Math.max(0, nfds) / 64) * 8));

/** A NUMA node mask of maxnode bits: strace shows its longs with C's %#016lx. */
export function nodemaskText(c: DecodeCtx, p: number, maxnode: number): string {
  const longs = Math.ceil(Math.max(0, maxnode - 1) / 64);
  return arrayText(c, p, longs, 8, (b) => {
    const v = b.readBigUInt64LE(0);
    return v === 0n ? '0'.repeat(16) : `0x${v.toString(16).padStart(14, '0')}`;
  });
}

/** A string array (argv), or its count of entries (envp, as strace shows it). */
export function argvText(c: DecodeCtx, p: number, count: boolean, cstrOf: (s: number) => string): string {
  return at(p, () => {
    const items: string[] = [];
    for (let j = 0; ; j++) {
      const s = unum(c, p + 8 * j);
      if (s === 0) break;
      items.push(cstrOf(s));
    }
    return count ? `0x${p.toString(16)} /* ${items.length} vars */` : `[${items.join(', ')}]`;
  });
}

/** struct flock: l_type, l_whence, l_start, l_len (and l_pid where the kernel wrote it: F_GETLK) */
export function flockText(c: DecodeCtx, p: number, withPid: boolean): string {
  return at(p, () => {
    const b = c.mem.read(p, 32);
    const type = enumName(b.readInt16LE(0), LOCK_TYPES);
    const whence = enumName(b.readInt16LE(2), WHENCE);
    const unknown = (v: string, what: string): string => (/^-?\d+$/.test(v) ? `0x${(Number(v) & 0xffff).toString(16)} /* ${what} */` : v);
    const pid = withPid ? `, l_pid=${b.readInt32LE(24)}` : '';
    return `{l_type=${unknown(type, 'F_???')}, l_whence=${unknown(whence, 'SEEK_???')}, l_start=${b.readBigInt64LE(8)}, l_len=${b.readBigInt64LE(16)}${pid}}`;
  });
}

const CAP_VERSIONS: Record<number, string> = { 0x19980330: '_LINUX_CAPABILITY_VERSION_1', 0x20071026: '_LINUX_CAPABILITY_VERSION_2', 0x20080522: '_LINUX_CAPABILITY_VERSION_3' };

export function capHeaderText(c: DecodeCtx, p: number): string {
  const v = u32(c, p);
  const name = CAP_VERSIONS[v] ?? `${hexNum(v)} /* _LINUX_CAPABILITY_VERSION_??? */`;
  return `{version=${name}, pid=${c.mem.read(p + 4, 4).readInt32LE(0)}}`;
}

/** A capability set as strace shows it: 1<<CAP_CHOWN|1<<CAP_KILL..., or 0. */
function capSet(v: bigint): string {
  const names: string[] = [];
  for (let bit = 0; bit < CAPS.length; bit++) if ((v >> BigInt(bit)) & 1n) names.push(`1<<${CAPS[bit]}`);
  const rest = v & ~((1n << BigInt(CAPS.length)) - 1n);
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names.length ? names.join('|') : '0';
}

export function capDataText(c: DecodeCtx, p: number, hdr: number): string {
  const words = u32(c, hdr) === 0x19980330 ? 1 : 2;
  const b = c.mem.read(p, 12 * words);
  const set = (off: number): bigint => {
    let v = 0n;
    for (let i = 0; i < words; i++) v |= BigInt(b.readUInt32LE(12 * i + off)) << BigInt(32 * i);
    return v;
  };
  return `{effective=${capSet(set(0))}, permitted=${capSet(set(4))}, inheritable=${capSet(set(8))}}`;
}
