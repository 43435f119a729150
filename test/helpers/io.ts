// An I/O context without a kernel or an engine, for unit tests of file
// systems, files and pipes: real credentials and arch, a settable rlimit
// table, parking recorded instead of done, and raised signals listed.
import { SysError } from '../../src/abi/errors.js';
import { errnoName } from '../../src/abi/errno.js';
import type { IoContext, PendingSignals, TerminalControl } from '../../src/fs/context.js';
import type { Vfs, Loc } from '../../src/fs/vfs.js';
import type { AddressSpace } from '../../src/mm/address-space.js';
import { Cred } from '../../src/ctx/cred.js';
import { WaitQueue, type BlockOptions } from '../../src/ctx/waitq.js';
import type { Arch } from '../../src/cpu/arch.js';
import { x86_64 } from '../../src/cpu/x86_64.js';
import { PROT_READ, PROT_WRITE } from '../../src/abi/mman.js';
import { PAGE } from '../../src/mm/layout.js';
import { A, fresh } from '../mm/helpers.js';

/** Thrown by block(): the test sees where the caller would have parked. */
export class Parked extends Error {
  constructor(
    readonly queues: WaitQueue[],
    readonly opts: BlockOptions,
  ) {
    super('parked');
  }
}

export class FakeIo implements IoContext {
  readonly cred: Cred;
  arch: Arch = x86_64;
  pid = 1000;
  tid = 1000;
  rlimits: Array<[bigint, bigint]> = [];
  restarting = false;
  restartState: number | null = null;
  readonly raised: number[] = [];
  private tree: Vfs | null = null;
  private memory: AddressSpace | null = null;

  constructor(uid = 0, gid = 0, groups: number[] = []) {
    this.cred = new Cred(uid, uid, gid, gid, groups);
  }
  get mm(): AddressSpace {
    if (this.memory === null) throw new Error('this test gave the context no guest memory');
    return this.memory;
  }
  set mm(m: AddressSpace) {
    this.memory = m;
  }
  get vfs(): Vfs {
    if (this.tree === null) throw new Error('this test gave the context no file system tree');
    return this.tree;
  }
  set vfs(v: Vfs) {
    this.tree = v;
  }
  get cwd(): Loc {
    return this.vfs.root;
  }
  block(queues: WaitQueue[], opts: BlockOptions = {}): never {
    throw new Parked(queues, opts);
  }
  raise(sig: number): void {
    this.raised.push(sig);
  }
  hostPollQueue(fd: number, events: number): WaitQueue {
    return new WaitQueue(`host fd ${fd} events ${events}`);
  }
  readonly terminal: TerminalControl = {
    foreground: () => 0,
    session: () => 0,
    setForeground: () => {
      throw new Error('no terminal in this test');
    },
  };
  /** a context that no signal is ever sent to */
  readonly signals: PendingSignals = {
    pending: () => 0n,
    take: () => null,
    queue: new WaitQueue('signalfd'),
  };
}

/**
 * Give `io` guest memory of its own: a fresh address space (drawn from
 * test/mm's HostMemory; its destroySpaces() frees it) with `pages`
 * read-write pages at A. Returns A.
 */
export function giveMemory(io: FakeIo, pages = 16): number {
  const { as } = fresh();
  as.mapAnon(A, pages * PAGE, PROT_READ | PROT_WRITE);
  io.mm = as;
  return A;
}

/**
 * What a call does, as a word: 'ok', the name of the errno it failed with
 * (errnoName), or 'parked' when it would have waited.
 */
export function outcome(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SysError) return errnoName(e.errno);
    if (e instanceof Parked) return 'parked';
    throw e;
  }
  return 'ok';
}
