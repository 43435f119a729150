// Exit and reaping. exit_group ends every thread of a process, releases what
// it held (fds, cwd, handlers, its address space once no hook is on the
// stack), hangs up its terminal's foreground group if it led its session,
// hands its children to init (or kills them with it), sends SIGHUP and
// SIGCONT to a process group its end orphans while a member is stopped,
// and leaves a zombie (which keeps its group and session) for its parent,
// which hears its exit signal; a SIGCHLD the parent ignores (or
// SA_NOCLDWAIT) reaps it at once. A thread's end clears its
// clear_child_tid word and releases its robust futexes, and hands the
// children it forked to another thread (their parent-death signal fires).
import { ITIMER_REAL } from '../abi/time.js';
import { SA_NOCLDWAIT, SIG, SIG_IGN } from '../abi/signal.js';
import { childSiginfo } from './signals.js';
import type { Kernel } from './kernel.js';
import type { ExitState, Process } from './process.js';
import type { Task } from './task.js';
import { exitPi } from './futex-pi.js';

export class Exit {
  constructor(private readonly k: Kernel) {}

  /** End every thread of p with this status; p becomes a zombie for its parent. */
  group(p: Process, state: ExitState): void {
    const k = this.k;
    if (p.exit !== null) return;
    const leader = [...p.threads][0];
    if (leader && k.tracing(leader)) k.tracer!.exited(leader, state);
    if (k.opts.debug && state.kind === 'signaled' && state.fault && p !== k.init) {
      const f = state.fault;
      process.stderr.write(`elfrun: pid ${p.pid} killed by signal ${state.signal}: ${f.what} at 0x${f.addr.toString(16)} (pc 0x${f.pc.toString(16)})\n`);
    }
    p.exiting = state;
    for (const t of [...p.threads]) this.killTask(t);
    p.threads.clear();
    this.releaseResources(p);
    // a session leader's end hangs up its terminal's foreground group
    if (p.leader) k.terminal.disassociate(p, true);
    p.exit = state;
    p.exitEvents.wake();
    k.events?.exit(p, state);
    if (p.vforkParent) {
      p.vforkParent = null;
      p.parent?.vforkDone.wake();
    }
    // orphans go to the nearest living subreaper ancestor, else init (or die with it)
    const reaper = this.newReaper(p);
    for (const c of [...p.children]) {
      p.children.delete(c);
      this.parentDeath(c, p);
      if (reaper === null) {
        if (c.exit === null) this.group(c, { kind: 'signaled', signal: SIG.SIGKILL });
        continue;
      }
      this.adopt(c, reaper, p);
    }
    // its own group may be orphaned by its end
    if (p !== k.init) k.jobs.orphaning(p, null);
    if (p.parent !== null) this.notifyParent(p, p.parent);
  }

  /** exit(2): one thread ends; the last one ends the process. */
  thread(t: Task, code: number): void {
    const p = t.proc;
    if (p.threads.size <= 1) {
      this.group(p, { kind: 'exited', code });
      return;
    }
    this.killTask(t);
    p.threads.delete(t);
    p.exitEvents.wake(); // PIDFD_THREAD pidfds of the thread
    // the children this thread made pass to another thread of its process (Linux's
    // find_alive_thread), which stays their parent; their parent-death signal fires
    const heir = [...p.threads][0] ?? null;
    for (const c of p.children) {
      if (c.parentThread !== t) continue;
      c.parentThread = heir;
      this.parentDeath(c, p);
    }
  }

  /**
   * find_new_reaper for p's orphans: with a subreaper among p's ancestors, the
   * nearest one still alive; else init; null when init is gone or is p (they die).
   */
  private newReaper(p: Process): Process | null {
    const k = this.k;
    if (p.hasChildSubreaper) {
      for (let a = p.parent; a !== null && a !== k.init; a = a.parent) if (a.subreaper && a.exit === null && a.exiting === null && a.threads.size > 0) return a;
    }
    if (p === k.init || k.init === null || k.init.exit !== null) return null;
    return k.init;
  }

  /** The parent-death signal of each of c's threads that asked for one, to c, from the ending parent (SEND_SIG_NOINFO: SI_USER, its pid). */
  private parentDeath(c: Process, father: Process): void {
    const k = this.k;
    for (const t of c.threads) if (t.pdeathsig) k.signals.sendToProcess(c, t.pdeathsig, k.userInfo(t.pdeathsig, father.pid));
  }

  /** reparent_leader: c goes to its new parent with SIGCHLD as its exit signal; a zombie is announced to it (or reaped at once). */
  private adopt(c: Process, reaper: Process, father: Process): void {
    const k = this.k;
    c.parent = reaper;
    c.parentThread = [...reaper.threads][0] ?? null;
    // outside its old session the new parent no longer keeps its group from being orphaned (pid 1's case)
    c.adopted = reaper === k.init;
    c.exitSignal = SIG.SIGCHLD;
    reaper.children.add(c);
    if (c.exit !== null && !c.reaped) this.notifyParent(c, reaper);
    k.jobs.orphaning(c, father);
  }

  /** do_notify_parent for a zombie: SIGCHLD to its parent, or reaped at once when the parent ignores it (or SA_NOCLDWAIT). */
  private notifyParent(p: Process, parent: Process): void {
    const k = this.k;
    if (p.exitSignal === SIG.SIGCHLD) {
      const a = parent.sighand.actions[SIG.SIGCHLD];
      if (a.handler === SIG_IGN || a.flags & SA_NOCLDWAIT) {
        this.reap(p); // auto-reaped: no zombie
        parent.childEvents.wake();
        return;
      }
    }
    if (p.exitSignal > 0) k.signals.sendToProcess(parent, p.exitSignal, childSiginfo(p, p.exitSignal, null, { utimeMs: p.utimeMs, stimeMs: p.stimeMs }));
    parent.childEvents.wake();
  }

  /** A thread ends: off the futexes and wait queues, its robust futexes and clear_child_tid released, off the engine. */
  killTask(t: Task): void {
    const k = this.k;
    if (t.state === 'dead') return;
    k.futex.forget(t);
    if (t.state === 'blocked') k.sched.unpark(t);
    t.proc.deadUtimeMs += t.utimeNow;
    t.proc.deadStimeMs += t.stimeNow;
    t.state = 'dead';
    t.blockRegs = null;
    k.futex.exitRobustList(t);
    exitPi(k, t);
    // CLONE_CHILD_CLEARTID: zero the tid word and wake one waiter (pthread_join).
    // The memory is still mapped here, even when the whole process is ending.
    if (t.clearChildTid !== 0) {
      try {
        t.mm.setU32(t.clearChildTid, 0);
      } catch {
        /* Linux ignores a bad clear_child_tid */
      }
      k.futex.wakeOne(t.proc.mm, t.clearChildTid);
    }
    k.tasks.delete(t.tid);
    if (t.ctx !== null) {
      t.cpu.freeContext(t.ctx);
      t.ctx = null;
    }
    if (t.cpu.owner === t) t.cpu.owner = null;
    t.stopReason = 'exit';
    t.cpu.stopIfRunning(t);
  }

  private releaseResources(p: Process): void {
    this.k.itimers.set(p, ITIMER_REAL, 0, 0);
    if (--p.fds.refs === 0) p.fds.closeAll();
    if (--p.fs.refs < 0) p.fs.refs = 0;
    if (--p.sighand.refs < 0) p.sighand.refs = 0;
    if (p.semUndo !== null) this.k.ipc.sem.exit(p.semUndo, p.pid);
    p.semUndo = null;
    this.k.ipc.mq.forget(p.pid);
    if (p.mm.refs === 1) this.k.ipc.shm.leaving(p.mm.space, p.pid);
    // the parent (most likely to run next) may take the memory the engine maps
    this.k.engines.releaseMm(p.mm, p.parent !== null && p.parent.exit === null ? p.parent.mm : null);
  }

  /** A zombie is waited for (or auto-reaped): it leaves the process table. */
  reap(p: Process): void {
    // the parent takes over its CPU time (and that of the children it reaped)
    if (p.parent) {
      p.parent.childrenUtimeMs += p.deadUtimeMs + p.childrenUtimeMs;
      p.parent.childrenStimeMs += p.deadStimeMs + p.childrenStimeMs;
    }
    p.reaped = true;
    p.exitEvents.wake();
    p.parent?.children.delete(p);
    this.k.processes.delete(p.pid);
  }
}
