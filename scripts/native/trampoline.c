/*
 * elfrun's syscall trampoline: the Unicorn hook for syscall instructions
 * (x86_64 `syscall`, arm64 `svc` via the interrupt hook) reads the syscall
 * registers into memory elfrun sees, makes one argument-less call into
 * JavaScript, and writes the result registers back if elfrun asked for it.
 * That is one crossing between C and JavaScript per syscall instead of three
 * (hook, batch read, batch write) through koffi.
 *
 * It also runs the engine (elfrun_run) under a watchdog thread that stops a
 * run lasting longer than a time slice, so that a guest computing without
 * syscalls gives the others (and Node's event loop: timers, host signals)
 * their turn.
 *
 * And a watcher thread tells elfrun when host fds that guests wait on (a
 * socket, a terminal, a host pipe) are ready, through a pipe Node's event
 * loop reads, so that a parked task wakes at once instead of at the next poll.
 *
 * And while a run is going on, a host SIGBUS on a page past the end of a host
 * file the guest has mapped (another host process truncated it) does not end
 * elfrun: the page becomes a zero page, the access goes on, the run stops, and
 * elfrun raises SIGBUS in the guest (elfrun_bus_take).
 *
 * Built by scripts/build-trampoline.sh; elfrun works without it (slower, a
 * busy guest is not preempted, host fds are polled on a timer).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef struct uc_struct uc_engine;
typedef size_t uc_hook;
extern int uc_hook_add(uc_engine *uc, uc_hook *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...);
extern int uc_reg_read(uc_engine *uc, int regid, void *value);
extern int uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count);
extern int uc_emu_stop(uc_engine *uc);
extern int uc_reg_write(uc_engine *uc, int regid, const void *value);
extern int uc_reg_read_batch(uc_engine *uc, int *regs, void **vals, int count);
extern int uc_reg_write_batch(uc_engine *uc, int *regs, void *const *vals, int count);
/* elfrun's patched Unicorn only: where a register lives (weak: NULL with another library) */
extern int uc_elfrun_reg_ptr(uc_engine *uc, int regid, void **ptr) __attribute__((weak));

#define UC_HOOK_INTR 1
#define UC_HOOK_INSN 2

/* Shared with elfrun (src/cpu/engine.ts, class Trampoline): keep the layout in step. */
struct tramp {
  int *rids;      /* 0: registers to read at a syscall */
  void **rptrs;   /* 8 */
  int *wids;      /* 16: registers to write after it */
  void **wptrs;   /* 24 */
  int32_t rcount; /* 32 */
  int32_t wcount; /* 36 */
  int32_t write;  /* 40: set by elfrun when the result registers must be written */
  int32_t intno;  /* 44: -1 for a syscall instruction, else the interrupt number */
  int32_t svc;    /* 48: the interrupt number of a syscall (arm64), -2 if none */
  uint32_t sys_us; /* 52: time spent in syscalls (µs, wrapping): the guest's system time */
  void (*js)(void); /* 56 */
};

/*
 * What the hooks get: the shared struct, and where each register to read or
 * write lives in the engine's CPU state (NULL: through uc_reg_read/write).
 * With the patched library the general-purpose registers and the pc are
 * plain loads and stores; the batch calls went through a switch per
 * register, 9% of a loop of getppid on arm64.
 */
#define MAX_REGS 16
struct hooked {
  struct tramp *t;
  int direct; /* every register count fits, and the pointers are resolved */
  uint64_t *rp[MAX_REGS];
  uint64_t *wp[MAX_REGS];
  uint64_t sys_ns; /* time spent in syscalls, of which sys_us shows the µs */
};

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void syscall_serve(uc_engine *uc, struct hooked *h);

/*
 * A syscall, timed: from the hook's entry to its return is the guest's
 * system time (elfrun servicing it), the rest of a run its user time. The
 * monotonic clock here costs a vDSO read each way, a fraction of what a
 * clock read costs in JavaScript.
 */
static void syscall_entry(uc_engine *uc, struct hooked *h) {
  uint64_t t0 = mono_ns();
  syscall_serve(uc, h);
  h->sys_ns += mono_ns() - t0;
  h->t->sys_us = (uint32_t)(h->sys_ns / 1000);
}

static void syscall_serve(uc_engine *uc, struct hooked *h) {
  struct tramp *t = h->t;
  if (h->direct) {
    for (int i = 0; i < t->rcount; i++) {
      if (h->rp[i] != NULL) *(uint64_t *)t->rptrs[i] = *h->rp[i];
      else uc_reg_read(uc, t->rids[i], t->rptrs[i]);
    }
  } else {
    uc_reg_read_batch(uc, t->rids, t->rptrs, t->rcount);
  }
  t->write = 0;
  t->js();
  if (!t->write) return;
  if (h->direct) {
    for (int i = 0; i < t->wcount; i++) {
      if (h->wp[i] != NULL) *h->wp[i] = *(uint64_t *)t->wptrs[i];
      else uc_reg_write(uc, t->wids[i], t->wptrs[i]);
    }
  } else {
    uc_reg_write_batch(uc, t->wids, t->wptrs, t->wcount);
  }
}

static void insn_cb(uc_engine *uc, void *user) {
  struct hooked *h = user;
  h->t->intno = -1;
  syscall_entry(uc, h);
}

static void intr_cb(uc_engine *uc, uint32_t intno, void *user) {
  struct hooked *h = user;
  struct tramp *t = h->t;
  t->intno = (int32_t)intno;
  if ((int32_t)intno == t->svc) {
    syscall_entry(uc, h);
    return;
  }
  t->write = 0;
  t->js(); /* another interrupt: elfrun handles it (a fault, int $0x80...) */
}

/* Resolve where the registers to read and write live; 0 if not all can be asked. */
static int resolve(uc_engine *uc, struct hooked *h) {
  struct tramp *t = h->t;
  if (uc_elfrun_reg_ptr == NULL || t->rcount > MAX_REGS || t->wcount > MAX_REGS) return 0;
  for (int i = 0; i < t->rcount; i++)
    if (uc_elfrun_reg_ptr(uc, t->rids[i], (void **)&h->rp[i]) != 0) return 0;
  for (int i = 0; i < t->wcount; i++)
    if (uc_elfrun_reg_ptr(uc, t->wids[i], (void **)&h->wp[i]) != 0) return 0;
  return 1;
}

/*
 * Install the hooks on an engine. insn: the x86 instruction id
 * (UC_X86_INS_SYSCALL) or -1. The register lists in `t` must be final. The
 * hooks' own state (a few hundred bytes) is not freed with the engine.
 */
int elfrun_install(uc_engine *uc, struct tramp *t, int32_t insn, int32_t svc, void (*js)(void)) {
  uc_hook hh;
  int err;
  struct hooked *h = calloc(1, sizeof *h);
  if (h == NULL) return 1; /* UC_ERR_NOMEM */
  h->t = t;
  h->direct = resolve(uc, h);
  t->js = js;
  t->svc = svc;
  if (insn >= 0) {
    err = uc_hook_add(uc, &hh, UC_HOOK_INSN, (void *)insn_cb, h, 1, 0, (int)insn);
    if (err) return err;
  }
  return uc_hook_add(uc, &hh, UC_HOOK_INTR, (void *)intr_cb, h, 1, 0);
}

/* The layout check elfrun makes before trusting the offsets above. */
int elfrun_tramp_size(void) { return (int)sizeof(struct tramp); }
/* Present when sys_us is kept (a build before it left the field 0). */
int elfrun_tramp_sys_time(void) { return 1; }

/*
 * Preemption. elfrun_run marks an engine as running, with a new generation
 * number, for the length of one uc_emu_start. The watchdog wakes every tick;
 * a run it finds with the generation it saw at the tick before has lasted at
 * least a whole tick, and it asks the engine to stop (uc_emu_stop, as
 * Unicorn's own timeout thread does). The engine then leaves at the start of
 * its next translated block, with the guest's pc exact, and elfrun_run
 * reports that the stop was a preemption. A stop asked after the run has
 * ended cannot happen: `running` is cleared under the same lock. After a
 * while with nothing running the watchdog sleeps until the next run.
 */
static pthread_mutex_t pre_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pre_cond;
static pthread_once_t pre_once = PTHREAD_ONCE_INIT;
static uc_engine *pre_running;
static uint64_t pre_gen;
static int pre_fired;
static int pre_asleep;
static int pre_ok;
static long pre_tick_ns = 5000000;
#define PRE_IDLE_TICKS 64

static void *pre_watchdog(void *arg) {
  (void)arg;
  uint64_t seen = 0;
  int idle = 0;
  struct timespec due;
  clock_gettime(CLOCK_MONOTONIC, &due);
  pthread_mutex_lock(&pre_lock);
  for (;;) {
    due.tv_nsec += pre_tick_ns;
    while (due.tv_nsec >= 1000000000L) {
      due.tv_nsec -= 1000000000L;
      due.tv_sec++;
    }
    while (pthread_cond_timedwait(&pre_cond, &pre_lock, &due) == 0) {
      /* woken early: only a run starting after a sleep signals; keep the tick */
    }
    if (pre_running != NULL) {
      idle = 0;
      if (pre_gen == seen) {
        pre_fired = 1;
        uc_emu_stop(pre_running);
      }
      seen = pre_gen;
    } else if (++idle >= PRE_IDLE_TICKS) {
      pre_asleep = 1;
      while (pre_running == NULL) pthread_cond_wait(&pre_cond, &pre_lock);
      pre_asleep = 0;
      idle = 0;
      seen = pre_gen;
      clock_gettime(CLOCK_MONOTONIC, &due);
    }
  }
  return NULL;
}

static void pre_start(void) {
  pthread_condattr_t a;
  pthread_t th;
  pthread_attr_t ta;
  if (pthread_condattr_init(&a) != 0) return;
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  if (pthread_cond_init(&pre_cond, &a) != 0) return;
  pthread_attr_init(&ta);
  pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&ta, 64 * 1024);
  if (pthread_create(&th, &ta, pre_watchdog, NULL) == 0) pre_ok = 1;
  pthread_attr_destroy(&ta);
}

/* The watchdog's tick in microseconds (a run is stopped after one to two ticks); 0 turns preemption off. */
void elfrun_set_slice(int32_t us) {
  pthread_mutex_lock(&pre_lock);
  pre_tick_ns = us > 0 ? (long)us * 1000L : 0;
  pthread_mutex_unlock(&pre_lock);
}

/*
 * Host SIGBUS during a run. Guest memory includes host files mapped shared;
 * when one shrinks under the guest, the host raises SIGBUS (BUS_ADRERR) at
 * the access, in the engine or in elfrun copying guest memory for a syscall.
 * The handler puts a private zero page over the faulting one (so the access
 * completes), records the address and asks the engine to stop; elfrun_run
 * reports ELFRUN_HOSTBUS and elfrun takes the addresses (elfrun_bus_take),
 * puts the file's page back and raises SIGBUS in the guest. Other SIGBUSes
 * (not during a run, or not past a file's end) go to the handler before.
 */
#define BUS_MAX 16
static struct sigaction bus_prev;
static uc_engine *volatile bus_uc;
static volatile sig_atomic_t bus_n;
static uint64_t bus_addr[BUS_MAX];
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void bus_handler(int sig, siginfo_t *si, void *ctx) {
  uc_engine *uc = bus_uc;
  if (uc != NULL && si->si_code == BUS_ADRERR) {
    uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)4095;
    if (mmap((void *)page, 4096, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) {
      if (bus_n < BUS_MAX) bus_addr[bus_n] = (uint64_t)(uintptr_t)si->si_addr;
      bus_n++;
      uc_emu_stop(uc);
      return;
    }
  }
  if (bus_prev.sa_flags & SA_SIGINFO) {
    bus_prev.sa_sigaction(sig, si, ctx);
  } else if (bus_prev.sa_handler != SIG_IGN && bus_prev.sa_handler != SIG_DFL) {
    bus_prev.sa_handler(sig);
  } else {
    /* the default action: die of SIGBUS, as without this handler */
    signal(SIGBUS, SIG_DFL);
    raise(SIGBUS);
  }
}

static void bus_install(void) {
  struct sigaction sa;
  sa.sa_sigaction = bus_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &bus_prev);
}

/*
 * Install the SIGBUS handler; elfrun does it before it makes an engine, so
 * that an engine's own handler (its direct window's, which runs a faulting
 * access again through the TLB, at the guest memory's own host address)
 * comes first and passes the faults that are not its own on to this one.
 */
void elfrun_bus_init(void) { pthread_once(&bus_once, bus_install); }

/* The guest-memory addresses (host addresses) of the SIGBUSes of the last runs, at most max; their number. */
int elfrun_bus_take(uint64_t *out, int32_t max) {
  int n = bus_n;
  for (int i = 0; i < n && i < max && i < BUS_MAX; i++) out[i] = bus_addr[i];
  bus_n = 0;
  return n < BUS_MAX ? n : BUS_MAX;
}

#define ELFRUN_PREEMPTED 0x10000
#define ELFRUN_HOSTBUS 0x20000

static int emu(uc_engine *uc, uint64_t begin) {
  elfrun_bus_init();
  bus_uc = uc;
  int err = uc_emu_start(uc, begin, UINT64_MAX, 0, 0);
  bus_uc = NULL;
  return err | (bus_n > 0 ? ELFRUN_HOSTBUS : 0);
}

/*
 * uc_emu_start(uc, begin, forever) under the watchdog. Returns Unicorn's
 * error code, with ELFRUN_PREEMPTED added when the watchdog stopped the run
 * and ELFRUN_HOSTBUS when a host SIGBUS did.
 */
int elfrun_run(uc_engine *uc, uint64_t begin) {
  int fired, err;
  if (pre_tick_ns == 0) return emu(uc, begin);
  pthread_once(&pre_once, pre_start);
  if (!pre_ok) return emu(uc, begin);
  pthread_mutex_lock(&pre_lock);
  pre_running = uc;
  pre_gen++;
  pre_fired = 0;
  if (pre_asleep) pthread_cond_signal(&pre_cond);
  pthread_mutex_unlock(&pre_lock);
  err = emu(uc, begin);
  pthread_mutex_lock(&pre_lock);
  pre_running = NULL;
  fired = pre_fired;
  pre_fired = 0;
  pthread_mutex_unlock(&pre_lock);
  return err | (fired ? ELFRUN_PREEMPTED : 0);
}

/*
 * The host-fd watcher. elfrun arms each fd a task waits on in an epoll set
 * (EPOLLONESHOT, data = the fd); this thread waits on the set and writes
 * each ready fd and its events, 8 bytes a record, into a pipe whose read end
 * Node's event loop watches. A record for the fd -1 (the read end of a
 * control pipe whose write end elfrun closes) ends the thread, which then
 * closes the epoll set and its end of the output pipe: both are the
 * thread's, so no fd number is used after elfrun could have reused it.
 */
struct watch { int ep; int out; };

static void *watch_loop(void *arg) {
  struct watch w = *(struct watch *)arg;
  free(arg);
  struct epoll_event ev[64];
  int32_t rec[128];
  for (;;) {
    int n = epoll_wait(w.ep, ev, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int stop = 0, k = 0;
    for (int i = 0; i < n; i++) {
      if (ev[i].data.fd == -1) {
        stop = 1;
        continue;
      }
      rec[k++] = ev[i].data.fd;
      rec[k++] = (int32_t)ev[i].events;
    }
    /* at most 512 bytes: one atomic pipe write */
    if (k > 0 && write(w.out, rec, (size_t)k * 4) < 0 && errno != EINTR) break;
    if (stop) break;
  }
  close(w.ep);
  close(w.out);
  return NULL;
}

/* Start a watcher on epoll set `ep`, writing to `out`; 0, or -1 if no thread could start. */
int elfrun_watch_start(int ep, int out) {
  pthread_t th;
  pthread_attr_t ta;
  sigset_t all, old;
  struct watch *w = malloc(sizeof *w);
  if (w == NULL) return -1;
  w->ep = ep;
  w->out = out;
  pthread_attr_init(&ta);
  pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&ta, 64 * 1024);
  /* host signals stay Node's: the thread starts with all of them blocked */
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int r = pthread_create(&th, &ta, watch_loop, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&ta);
  if (r != 0) {
    free(w);
    return -1;
  }
  return 0;
}
