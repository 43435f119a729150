// Typed binding over libunicorn (2.x) through koffi.
//
// Which library is loaded is decided here and only here (see
// unicornCandidates): ELFRUN_UNICORN=/path overrides; otherwise the project's
// own patched build as set-up installed it beside the build (dist/native/,
// scripts/install-native.sh), then the one in the cache of the user running
// elfrun (scripts/build-unicorn.sh), then the system's libunicorn.so.2.
// Nothing here writes to stderr: what is wrong with the engine found is kept
// as a notice (engineNotice) for the command line to show where it cannot mix
// with a guest's own output.
import koffi from '../host/ffi.js';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UC_ARCH_ARM64 = 2;
export const UC_ARCH_X86 = 4;
export const UC_MODE_ARM = 0;
export const UC_MODE_64 = 8;

export const UC_HOOK_INTR = 1;
export const UC_HOOK_INSN = 2;
export const UC_HOOK_MEM_INVALID = 1008; // all *_UNMAPPED and *_PROT hooks

export const UC_PROT_NONE = 0;
export const UC_PROT_READ = 1;
export const UC_PROT_WRITE = 2;
export const UC_PROT_EXEC = 4;

export const UC_ERR_OK = 0;
export const UC_ERR_NOMEM = 1;
export const UC_ERR_READ_UNMAPPED = 6;
export const UC_ERR_WRITE_UNMAPPED = 7;
export const UC_ERR_FETCH_UNMAPPED = 8;
export const UC_ERR_INSN_INVALID = 10;
export const UC_ERR_MAP = 11;
export const UC_ERR_WRITE_PROT = 12;
export const UC_ERR_READ_PROT = 13;
export const UC_ERR_FETCH_PROT = 14;
export const UC_ERR_READ_UNALIGNED = 16;
export const UC_ERR_WRITE_UNALIGNED = 17;
export const UC_ERR_FETCH_UNALIGNED = 18;
export const UC_ERR_EXCEPTION = 21;

export const UC_MEM_READ_UNMAPPED = 19;
export const UC_MEM_WRITE_UNMAPPED = 20;
export const UC_MEM_FETCH_UNMAPPED = 21;
export const UC_MEM_WRITE_PROT = 22;
export const UC_MEM_READ_PROT = 23;
export const UC_MEM_FETCH_PROT = 24;

// uc_ctl encoding: type | (nargs << 26) | (rw << 30)
export const UC_CTL_IO_WRITE = 1;
export const UC_CTL_CPU_MODEL = 7;
export const UC_CTL_TB_REMOVE_CACHE = 9;
export const UC_CTL_TCG_BUFFER_SIZE = 13; // 2.1.x only
export function ucCtlWrite(type: number, nargs: number): number {
  return (type | (nargs << 26) | (UC_CTL_IO_WRITE << 30)) >>> 0;
}

export type Engine = unknown; // opaque uc_engine*

export interface UnicornLib {
  path: string;
  version: { major: number; minor: number; patch: number };
  patched: boolean;
  open(arch: number, mode: number, out: [Engine | null]): number;
  close(uc: Engine): number;
  strerror(err: number): string;
  memMapPtr(uc: Engine, addr: number, size: number, perms: number, hostAddr: number): number;
  memUnmap(uc: Engine, addr: number, size: number): number;
  /**
   * elfrun's patched Unicorn only (null otherwise): point the region mapped
   * at exactly [addr, addr+size) at other host memory, without rebuilding
   * the memory map (scripts/unicorn/elfrun.patch).
   */
  memRebase: ((uc: Engine, addr: number, size: number, hostAddr: number) => number) | null;
  /**
   * elfrun's patch: translated code reaches guest addresses below 2^bits
   * through a window of host memory instead of the TLB (uc_elfrun_direct),
   * or null when the library is not elfrun's.
   */
  direct: ((uc: Engine, bits: number) => number) | null;
  /**
   * elfrun's patch: with on, a spin-wait hint (x86 pause, arm64 yield/wfe)
   * ends the run after it (uc_elfrun_spin_yield); null when the library has
   * no such call.
   */
  spinYield: ((uc: Engine, on: boolean) => number) | null;
  /** elfrun's patch: how many window slots direct mode has (uc_elfrun_window_slots; see src/cpu/windows.ts), or null */
  windowSlots: ((uc: Engine) => number) | null;
  /** make a slot current and hold the window: 1 if it still shows this engine's map as it was, 0 if it is rebuilt, -1 if the engine cannot switch now */
  windowSelect: ((uc: Engine, slot: number) => number) | null;
  /** while held: the current slot follows the engine's map over [addr, addr+size) */
  windowRefresh: ((uc: Engine, addr: number, size: number) => number) | null;
  /** the window follows the engine's map again */
  windowSettle: ((uc: Engine) => number) | null;
  /** empty a slot that is not the current one */
  windowClear: ((uc: Engine, slot: number) => number) | null;
  memProtect(uc: Engine, addr: number, size: number, perms: number): number;
  regRead(uc: Engine, reg: number, out: Buffer | Uint8Array): number;
  regWrite(uc: Engine, reg: number, val: Buffer | Uint8Array): number;
  /** regs and vals are raw host addresses (int*, void**) of native memory. */
  regReadBatch(uc: Engine, regs: number, vals: number, count: number): number;
  regWriteBatch(uc: Engine, regs: number, vals: number, count: number): number;
  hookAdd(uc: Engine, out: BigUint64Array, type: number, cb: unknown, user: null, begin: bigint, end: bigint, ...extra: unknown[]): number;
  hookDel(uc: Engine, hh: bigint): number;
  emuStart(uc: Engine, begin: bigint | number, until: bigint, timeout: number, count: number): number;
  emuStop(uc: Engine): number;
  ctl(uc: Engine, control: number, ...extra: unknown[]): number;
  contextAlloc(uc: Engine, out: [unknown]): number;
  contextSave(uc: Engine, ctx: unknown): number;
  contextRestore(uc: Engine, ctx: unknown): number;
  contextFree(ctx: unknown): number;
}

const CACHE_DIR = process.env.ELFRUN_CACHE ?? join(homedir(), '.cache', 'elfrun');

/** What set-up installed beside the build (scripts/install-native.sh): its directory and what each library was built from. */
interface NativeInstall {
  dir: string;
  /** the project's root (the checkout the build belongs to) */
  root: string;
  /** sha256 of the Unicorn patch and of the trampoline's source at build time */
  built: Map<string, string>;
}

/** dist/native/, found from this module's own place (tsc's dist/src/cpu/ or the bundle's dist/), read once */
let native: NativeInstall | null | undefined;

function nativeInstall(): NativeInstall | null {
  if (native !== undefined) return native;
  native = null;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [resolve(here, '../../native'), resolve(here, 'native')]) {
    let stamp: string;
    try {
      stamp = readFileSync(join(dir, 'stamp'), 'latin1');
    } catch {
      continue;
    }
    const built = new Map<string, string>();
    for (const line of stamp.split('\n')) {
      const [what, sum] = line.split(' ');
      if (what && sum) built.set(what, sum);
    }
    native = { dir, root: resolve(dir, '../..'), built };
    break;
  }
  return native;
}

/**
 * Was the installed `what` (unicorn, trampoline) built from the source the
 * checkout now has? True when that source is not there to compare with (an
 * installed package ships what it was built from).
 */
function current(n: NativeInstall, what: string, source: string): boolean {
  let text: Buffer;
  try {
    text = readFileSync(join(n.root, source));
  } catch {
    return true;
  }
  return n.built.get(what) === createHash('sha256').update(text).digest('hex');
}

/** Candidate libraries, best first. */
export function unicornCandidates(): string[] {
  const env = process.env.ELFRUN_UNICORN;
  if (env) return [env];
  const n = nativeInstall();
  return [
    ...(n !== null && n.built.has('unicorn') ? [join(n.dir, 'libunicorn.so.2')] : []),
    join(CACHE_DIR, 'unicorn-2.1.4-elfrun1', 'lib', 'libunicorn.so.2'),
    'libunicorn.so.2',
  ];
}

/** libunicorn, loaded once for every Machine */
let loaded: UnicornLib | null = null;
/** what is wrong with the engine loaded, if anything (see engineNotice) */
let notice: string | null = null;
/** the installed engine loaded, to be compared with the checkout's patch when a notice is asked for (not at every start) */
let stale: NativeInstall | null = null;

export class UnicornLoadError extends Error {}

export function loadUnicorn(): UnicornLib {
  if (loaded) return loaded;
  const errors: string[] = [];
  for (const path of unicornCandidates()) {
    if (path.includes('/') && !existsSync(path)) {
      errors.push(`${path}: not found`);
      continue;
    }
    try {
      loaded = bind(path);
      const n = nativeInstall();
      if (process.env.ELFRUN_UNICORN) notice = null;
      else if (!loaded.patched)
        notice =
          `using unpatched ${path} (Unicorn ${loaded.version.major}.${loaded.version.minor}.${loaded.version.patch}), ` +
          'which runs guest stores slowly and lacks instructions some programs need; run scripts/setup.sh for the fast engine';
      else if (n !== null && path.startsWith(n.dir + '/')) stale = n;
      return loaded;
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message}`);
    }
  }
  throw new UnicornLoadError(`cannot load libunicorn (${errors.join('; ')}); run scripts/setup.sh`);
}

/**
 * One line saying what is wrong with the engine elfrun loaded (an unpatched
 * fallback, or a stale build), or null. The command line shows it when the
 * guest failed or with --debug, never in the middle of a guest's output;
 * ELFRUN_QUIET_UNICORN=1 silences it.
 */
export function engineNotice(): string | null {
  if (stale !== null) {
    if (!current(stale, 'unicorn', 'scripts/unicorn/elfrun.patch'))
      notice = `the engine in ${stale.dir} was built from another version of scripts/unicorn/elfrun.patch; run scripts/setup.sh`;
    stale = null;
  }
  return process.env.ELFRUN_QUIET_UNICORN ? null : notice;
}

/** A function only some builds of the library have: null when it is missing. */
function optional(lib: ReturnType<typeof koffi.load>, decl: string): unknown {
  try {
    return lib.func(decl);
  } catch {
    return null;
  }
}

/** The window-slot calls (uc_elfrun_window_*), or nulls for a library without them. */
function windowFns(lib: ReturnType<typeof koffi.load>): Pick<UnicornLib, 'windowSlots' | 'windowSelect' | 'windowRefresh' | 'windowSettle' | 'windowClear'> {
  const slots = optional(lib, 'int uc_elfrun_window_slots(void *uc, _Out_ int *n)') as ((uc: Engine, n: number[]) => number) | null;
  const select = optional(lib, 'int uc_elfrun_window_select(void *uc, int slot, _Out_ int *kept)') as ((uc: Engine, slot: number, kept: number[]) => number) | null;
  const refresh = optional(lib, 'int uc_elfrun_window_refresh(void *uc, uint64_t address, uint64_t size)') as UnicornLib['windowRefresh'];
  const settle = optional(lib, 'int uc_elfrun_window_settle(void *uc)') as UnicornLib['windowSettle'];
  const clear = optional(lib, 'int uc_elfrun_window_clear(void *uc, int slot)') as UnicornLib['windowClear'];
  const out = [0];
  return {
    windowSlots: slots === null ? null : (uc) => (slots(uc, out) === 0 ? out[0] : 0),
    windowSelect: select === null ? null : (uc, slot) => (select(uc, slot, out) === 0 ? out[0] : -1),
    windowRefresh: refresh,
    windowSettle: settle,
    windowClear: clear,
  };
}

function bind(path: string): UnicornLib {
  const lib = koffi.load(path);
  const versionFn = lib.func('unsigned int uc_version(_Out_ unsigned int *major, _Out_ unsigned int *minor)');
  const v = versionFn(null, null) as number;
  const major = (v >>> 24) & 0xff;
  const minor = (v >>> 16) & 0xff;
  if (major !== 2) throw new Error(`unsupported Unicorn version ${major}.${minor}`);
  const memRebase = optional(lib, 'int uc_elfrun_mem_rebase(void *uc, uint64_t address, size_t size, intptr_t ptr)') as UnicornLib['memRebase'];
  // elfrun's build, whatever its path: it has the patch's functions
  const patched = memRebase !== null;
  const open = lib.func('int uc_open(int arch, int mode, _Out_ void **uc)');
  const strerror = lib.func('const char *uc_strerror(int code)');
  const fns = {
    close: lib.func('int uc_close(void *uc)'),
    memMapPtr: lib.func('int uc_mem_map_ptr(void *uc, uint64_t address, size_t size, uint32_t perms, intptr_t ptr)'),
    memUnmap: lib.func('int uc_mem_unmap(void *uc, uint64_t address, size_t size)'),
    memProtect: lib.func('int uc_mem_protect(void *uc, uint64_t address, size_t size, uint32_t perms)'),
    regRead: lib.func('int uc_reg_read(void *uc, int regid, void *value)'),
    regWrite: lib.func('int uc_reg_write(void *uc, int regid, const void *value)'),
    regReadBatch: lib.func('int uc_reg_read_batch(void *uc, intptr_t regs, intptr_t vals, int count)'),
    regWriteBatch: lib.func('int uc_reg_write_batch(void *uc, intptr_t regs, intptr_t vals, int count)'),
    hookAdd: lib.func('int uc_hook_add(void *uc, _Out_ uint64_t *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...)'),
    hookDel: lib.func('int uc_hook_del(void *uc, uint64_t hh)'),
    emuStart: lib.func('int uc_emu_start(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
    emuStop: lib.func('int uc_emu_stop(void *uc)'),
    ctl: lib.func('int uc_ctl(void *uc, int control, ...)'),
    contextAlloc: lib.func('int uc_context_alloc(void *uc, _Out_ void **context)'),
    contextSave: lib.func('int uc_context_save(void *uc, void *context)'),
    contextRestore: lib.func('int uc_context_restore(void *uc, void *context)'),
    contextFree: lib.func('int uc_context_free(void *context)'),
  };
  return {
    path,
    version: { major, minor, patch: (v >>> 8) & 0xff },
    patched,
    open: (arch, mode, out) => {
      const o: unknown[] = [null];
      const r = open(arch, mode, o) as number;
      out[0] = o[0] as Engine;
      return r;
    },
    strerror: (e) => strerror(e) as string,
    close: fns.close as UnicornLib['close'],
    memMapPtr: fns.memMapPtr as UnicornLib['memMapPtr'],
    memUnmap: fns.memUnmap as UnicornLib['memUnmap'],
    memRebase,
    direct: optional(lib, 'int uc_elfrun_direct(void *uc, int bits)') as UnicornLib['direct'],
    spinYield: optional(lib, 'int uc_elfrun_spin_yield(void *uc, bool on)') as UnicornLib['spinYield'],
    ...windowFns(lib),
    memProtect: fns.memProtect as UnicornLib['memProtect'],
    regRead: fns.regRead as UnicornLib['regRead'],
    regWrite: fns.regWrite as UnicornLib['regWrite'],
    regReadBatch: fns.regReadBatch as UnicornLib['regReadBatch'],
    regWriteBatch: fns.regWriteBatch as UnicornLib['regWriteBatch'],
    hookAdd: fns.hookAdd as UnicornLib['hookAdd'],
    hookDel: fns.hookDel as UnicornLib['hookDel'],
    emuStart: fns.emuStart as UnicornLib['emuStart'],
    emuStop: fns.emuStop as UnicornLib['emuStop'],
    ctl: fns.ctl as UnicornLib['ctl'],
    contextAlloc: (uc, out) => {
      const o: unknown[] = [null];
      const r = fns.contextAlloc(uc, o) as number;
      out[0] = o[0];
      return r;
    },
    contextSave: fns.contextSave as UnicornLib['contextSave'],
    contextRestore: fns.contextRestore as UnicornLib['contextRestore'],
    contextFree: fns.contextFree as UnicornLib['contextFree'],
  };
}

/** Callback prototypes shared by every engine. */
export const SyscallInsnCb = koffi.proto('void elfrun_insn_cb(void *uc, void *user)');
export const IntrCb = koffi.proto('void elfrun_intr_cb(void *uc, uint32_t intno, void *user)');
export const MemInvalidCb = koffi.proto(
  'bool elfrun_mem_cb(void *uc, int type, uint64_t address, int size, int64_t value, void *user)',
);

/** elfrun's syscall trampoline (scripts/native/trampoline.c), when it is built. */
export interface TrampolineLib {
  install(uc: Engine, tramp: number, insn: number, svc: number, js: unknown): number;
  /**
   * uc_emu_start(uc, begin, forever) under the trampoline's watchdog, which
   * stops a run that lasts longer than a time slice (null: a trampoline
   * built before it had one). Unicorn's error code, plus PREEMPTED when the
   * watchdog stopped it.
   */
  run: ((uc: Engine, begin: number) => number) | null;
  /** the watchdog's tick in microseconds: a run is stopped after one to two ticks (0: never) */
  setSlice: ((us: number) => void) | null;
  /**
   * Start a host-fd watcher thread on epoll set `ep` that writes (fd, events)
   * int32 pairs to `out` (0, or -1); null: a trampoline built before it had one.
   */
  watchStart: ((ep: number, out: number) => number) | null;
  /** the host addresses of the host SIGBUSes a run met (its result has HOSTBUS); null: a trampoline without the handler */
  busTake: (() => number[]) | null;
  /** does it time its syscalls (struct tramp's sys_us, offset 52); false: a build before it did */
  sysTime: boolean;
}

/** the watchdog's tick: a run that lasts a whole tick is stopped at the next one */
const PREEMPT_TICK_US = 5000;

/** In TrampolineLib.run's result: the watchdog stopped the run at a block boundary. */
export const PREEMPTED = 0x10000;
/** In TrampolineLib.run's result: a host SIGBUS on guest memory stopped it (a mapped host file shrank). */
export const HOSTBUS = 0x20000;

export const TrampolineCb = koffi.proto('void elfrun_tramp_cb(void)');
/** sizeof(struct tramp) in trampoline.c */
export const TRAMP_SIZE = 64;

/** the trampoline library, loaded once for every Machine (undefined: not looked for yet) */
let tramp: TrampolineLib | null | undefined;

/**
 * The newest built trampoline in the cache (ELFRUN_TRAMPOLINE overrides;
 * ELFRUN_NO_TRAMPOLINE=1 disables it), or null: elfrun then makes the same
 * calls through koffi. It must be loaded after libunicorn, which it links to.
 */
export function loadTrampoline(): TrampolineLib | null {
  if (tramp !== undefined) return tramp;
  tramp = null;
  if (process.env.ELFRUN_NO_TRAMPOLINE) return null;
  let path = process.env.ELFRUN_TRAMPOLINE ?? null;
  const n = nativeInstall();
  // the installed one when it is current and goes with the installed engine
  if (path === null && n !== null && n.built.has('trampoline') && loaded?.path.startsWith(n.dir + '/') && current(n, 'trampoline', 'scripts/native/trampoline.c'))
    path = join(n.dir, 'libelfrun-tramp.so');
  if (path === null) {
    try {
      const dirs = readdirSync(CACHE_DIR)
        .filter((d) => d.startsWith('trampoline-'))
        .map((d) => join(CACHE_DIR, d, 'libelfrun-tramp.so'))
        .filter((p) => existsSync(p))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
      path = dirs[0] ?? null;
    } catch {
      path = null;
    }
  }
  if (path === null) return null;
  try {
    const lib = koffi.load(path);
    const size = lib.func('int elfrun_tramp_size(void)')() as number;
    if (size !== TRAMP_SIZE) return null; // built from another layout
    const install = lib.func('int elfrun_install(void *uc, intptr_t tramp, int insn, int svc, void *js)');
    let run: TrampolineLib['run'] = null;
    let setSlice: TrampolineLib['setSlice'] = null;
    try {
      const r = lib.func('int elfrun_run(void *uc, uint64_t begin)');
      const s = lib.func('void elfrun_set_slice(int32_t us)');
      run = (uc, begin) => r(uc, begin) as number;
      setSlice = (us) => void s(us);
    } catch {
      /* an older build: no preemption */
    }
    let watchStart: TrampolineLib['watchStart'] = null;
    try {
      const w = lib.func('int elfrun_watch_start(int ep, int out)');
      watchStart = (ep, out) => w(ep, out) as number;
    } catch {
      /* an older build: host fds are polled */
    }
    let busTake: TrampolineLib['busTake'] = null;
    try {
      const b = lib.func('int elfrun_bus_take(void *out, int32_t max)');
      // before any engine: an engine's own SIGBUS handler then comes first and passes on what is not its own
      lib.func('void elfrun_bus_init(void)')();
      const out = Buffer.alloc(16 * 8);
      busTake = () => {
        const n = b(out, 16) as number;
        return Array.from({ length: n }, (_, i) => Number(out.readBigUInt64LE(8 * i)));
      };
    } catch {
      /* an older build: no SIGBUS handler */
    }
    let sysTime = false;
    try {
      sysTime = lib.func('int elfrun_tramp_sys_time(void)')() === 1;
    } catch {
      /* an older build: elfrun times the syscalls itself */
    }
    tramp = { install: (uc, t, insn, svc, js) => install(uc, t, insn, svc, js) as number, run, setSlice, watchStart, busTake, sysTime };
    // a run without syscalls is stopped after 5-10 ms: the others' turn, and Node's event loop's
    // (ELFRUN_PREEMPT=0 turns that off, to measure what it costs)
    setSlice?.(process.env.ELFRUN_PREEMPT === '0' ? 0 : PREEMPT_TICK_US);
  } catch {
    tramp = null;
  }
  return tramp;
}
