/*
 * elfrun's syscall trampoline: the Unicorn hook for syscall instructions
 * (x86_64 `syscall`, arm64 `svc` via the interrupt hook) reads the syscall
 * registers into memory elfrun sees, makes one argument-less call into
 * JavaScript, and writes the result registers back if elfrun asked for it.
 * That is one crossing between C and JavaScript per syscall instead of three
 * (hook, batch read, batch write) through koffi.
 *
 * Built by scripts/build-trampoline.sh; elfrun works without it (slower).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct uc_struct uc_engine;
typedef size_t uc_hook;
extern int uc_hook_add(uc_engine *uc, uc_hook *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...);
extern int uc_reg_read(uc_engine *uc, int regid, void *value);
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
  int32_t pad;
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
};

static void syscall_entry(uc_engine *uc, struct hooked *h) {
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
