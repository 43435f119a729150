// The OOM killer of --max-memory. Most guest memory is committed when it is
// mapped (ENOMEM beyond the cap); memory charged as it is touched (private
// writable MAP_NORESERVE mappings, mm/lazy.ts) can pass the cap at a page
// fault, a kernel store or a fork's copy. Then, as Linux's memory cgroup OOM
// killer (mm/oom_kill.c), the guest process with the highest badness (its
// resident pages plus oom_score_adj thousandths of the cap; -1000 exempts)
// is chosen and killed with SIGKILL, logged on elfrun's stderr in the
// kernel's words. The kill waits for a safe point (no engine running, no
// syscall half done): the scheduler calls killPending between runs, and a
// chosen process that is running now stops at once.
import { SI_KERNEL, SIG } from '../abi/signal.js';
import { PAGE } from '../mm/layout.js';
import { LAZY_GRAIN } from '../mm/lazy.js';
import { isAnon, SHARED_ANON_NAME } from '../mm/vma.js';
import { touchedPages } from '../host/libc.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';

/** oom_score_adj that exempts a process (OOM_SCORE_ADJ_MIN) */
const OOM_SCORE_ADJ_MIN = -1000;

/** A process's resident pages by kind, and its size, in pages. */
interface Usage {
  anon: number;
  file: number;
  shmem: number;
  vm: number;
}

function usage(p: Process): Usage {
  const u: Usage = { anon: 0, file: 0, shmem: 0, vm: 0 };
  for (const v of p.mm.space.vmas) {
    const pages = Math.ceil(v.size / PAGE);
    u.vm += pages;
    const vec = touchedPages(v.hostAddr(v.start), v.size);
    let r = pages;
    if (vec !== null) {
      r = 0;
      for (let i = 0; i < pages; i++) r += vec[i] & 1;
    }
    // (a lazy chunk's pieces not touched hold no pages; its host pages are the truth otherwise)
    if (v.chunk.lazy !== null) r = Math.min(r, Math.ceil((v.chunk.lazy.count * LAZY_GRAIN) / PAGE));
    if (v.info.shared && (v.info.name === SHARED_ANON_NAME || v.info.owner !== undefined)) u.shmem += r;
    else if (isAnon(v.info) && !v.info.shared) u.anon += r;
    else u.file += r;
  }
  return u;
}

export class OomKiller {
  /** the process chosen and not yet killed */
  pending: Process | null = null;
  /** the processes killed, until they are gone (their memory comes back as they go) */
  private readonly dying = new Set<Process>();
  private warnedNone = false;

  constructor(private readonly k: Kernel) {}

  /** Install the charge under --max-memory (HostMemory.charge); nothing is lazy without a cap. */
  install(): void {
    if (this.k.opts.maxMemory === undefined) return;
    this.k.memory.charge = (_space, bytes) => this.charge(bytes);
  }

  /** `bytes` more are about to be touched: past the cap, choose a victim (unless one is on its way out). */
  charge(bytes: number): void {
    const cap = this.k.opts.maxMemory;
    if (cap === undefined || this.k.committedMemory() + bytes <= cap) return;
    for (const p of this.dying) if (p.exit !== null) this.dying.delete(p);
    // a victim still going frees its memory: no second one meanwhile (Linux's oom_evaluate_task aborts too)
    if (this.pending !== null || this.dying.size > 0) return;
    const total = Math.floor(cap / PAGE);
    let best: Process | null = null;
    let bestPoints = -Infinity;
    const seen = new Set<object>();
    for (const p of this.k.processes.values()) {
      if (p.exit !== null || p.exiting !== null || seen.has(p.mm.space)) continue;
      seen.add(p.mm.space);
      const adj = p.tunables.oomScoreAdj;
      if (adj === OOM_SCORE_ADJ_MIN) continue;
      const u = usage(p);
      // oom_badness: resident pages (and swap and page tables, none here) plus the adjustment's share of the limit
      const points = u.anon + u.file + u.shmem + adj * Math.trunc(total / 1000);
      // equal points: the later process (oom_evaluate_task keeps the last of equals)
      if (points >= bestPoints) {
        best = p;
        bestPoints = points;
      }
    }
    if (best === null) {
      if (!this.warnedNone) process.stderr.write('elfrun: Out of memory (--max-memory) and no killable processes...\n');
      this.warnedNone = true;
      return;
    }
    this.pending = best;
    // a running victim stops at once (at the end of the access or syscall); the kill
    // itself comes at the scheduler's next safe point
    for (const t of best.threads) t.cpu.stopIfRunning(t);
  }

  /** Kill the chosen process (no engine runs now), as oom_kill_process: its line on stderr, then SIGKILL. */
  killPending(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    if (p.exit !== null || p.exiting !== null) return;
    const u = usage(p);
    const kb = (pages: number): string => `${pages * (PAGE / 1024)}kB`;
    process.stderr.write(
      `elfrun: Memory cgroup out of memory (--max-memory): Killed process ${p.pid} (${p.comm}) total-vm:${kb(u.vm)}, anon-rss:${kb(u.anon)}, ` +
        `file-rss:${kb(u.file)}, shmem-rss:${kb(u.shmem)}, UID:${p.cred.ruid} pgtables:0kB oom_score_adj:${p.tunables.oomScoreAdj}\n`,
    );
    this.dying.add(p);
    const info = this.k.userInfo(SIG.SIGKILL, 0);
    info.writeInt32LE(SI_KERNEL, 8);
    this.k.signals.sendToProcess(p, SIG.SIGKILL, info);
  }
}
