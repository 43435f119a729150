/*
 * Checks elfrun's patched libunicorn (scripts/build-unicorn.sh,
 * scripts/unicorn/elfrun.patch) on x86_64 guest code:
 *   (a) a store-heavy loop, timed on a non-exec page and on an RWX page;
 *   (b) self-modifying code on RWX pages is re-translated (also after
 *       uc_mem_protect adds EXEC to a page that was stored to before);
 *   (c) UC_HOOK_MEM_WRITE fires on non-exec pages, also when the hook is
 *       added after the code was translated and ran;
 *   (d) stores to read-only / unmapped pages still fail, also right after
 *       uc_mem_protect / uc_mem_unmap of a page that was stored to (and of
 *       large and small regions, whose code is translated again when
 *       mapped anew);
 *   (e) uc_ctl(UC_CTL_TCG_BUFFER_SIZE) works before the first instruction;
 *   (f) a faulting load or store stops the engine at that instruction, before
 *       the next one in the same translated block runs (the patch drops the
 *       helper call Unicorn made after every memory access), and a
 *       UC_HOOK_MEM_WRITE callback that calls uc_emu_stop still stops right
 *       after its store, also when the code was translated before the hook;
 *   (g) uc_elfrun_mem_rebase points a uc_mem_map_ptr region at other host
 *       memory: loads and stores after it reach the new memory (the TLB
 *       forgets the old), code in it is translated again, and a range that
 *       is not exactly one such region is refused;
 *   (h) REP MOVSB/STOSB (one helper call in the patch): a copy over many
 *       pages is exact; a store into an unmapped or read-only page stops
 *       the engine with RCX, RSI and RDI showing how far the copy got; a
 *       UC_HOOK_MEM_WRITE still fires once per byte;
 *   (j) a jump to code on another page is linked to its translation (as in
 *       qemu-user), and the link goes when that code does: after
 *       uc_ctl_remove_cache or a guest store into it, a rebase, an unmap and a new
 *       mapping, and a uc_mem_protect that removes EXEC (the jump then
 *       faults; before the patch, Unicorn ran the old translation);
 *   (k) uc_elfrun_reg_ptr: general-purpose registers and RIP are plain
 *       storage, read and written through the pointer as by uc_reg_read and
 *       uc_reg_write, also while a hook runs; EFLAGS has none.
 * Then all of it again in direct mode (uc_elfrun_direct: guest memory through
 * a window of host memory, not the TLB), and:
 *   (l) loads and stores at the window's top, across its end and above it;
 *       loads from memory that cannot be in the window; two engines in turn,
 *       and one run from the other's hook, each seeing its own memory at the
 *       same addresses; closing one; a host fault that is not the engine's
 *       still kills; code written into a writable and executable page that
 *       stores had opened, run, then patched;
 *   (m) arm64: an exclusive load from an aligned address, and from a
 *       misaligned one, which ends as it does through the TLB, and which
 *       an interrupt hook sees as a data abort with ESR_EL1 and FAR_EL1 set
 *       as taking the exception would set them (alignment fault, address);
 *   (n) floating-point exception flags: an SSE division by zero shows in
 *       MXCSR (stmxcsr, uc_reg_read), an x87 one in the status word
 *       (fnstsw, uc_reg_read), a write of MXCSR clears them; with the
 *       exception unmasked, the SSE division raises #XM (vector 19, through
 *       UC_HOOK_INTR) at the division with its destination unchanged, and
 *       the x87 one #MF (vector 16) at the next waiting instruction.
 *   (n5) SSE's denormal flag: an addition with a denormal input sets
 *       MXCSR.DE (and PE), a conversion of one to an integer only PE, and
 *       with DAZ set the addition sets nothing.
 *   (n6) x87's denormal flag: fldl of a float64 denormal sets the status
 *       word's DE; with DE unmasked, fmull of one raises #MF (vector 16) at
 *       the next waiting instruction, with DE alone set (no PE) and ST0
 *       unchanged.
 *   (o) the x87 last-instruction pointers: after fldl and fstp, fnstenv
 *       holds the fstp's opcode (FOP), address (FIP) and the fldl's operand
 *       (FDP); fxsave64 writes them as zeros (as AMD's does with no
 *       exception pending), and with an unmasked divide by zero pending
 *       writes the division's opcode, address and operand.
 *   (p) user mode: 64-bit code runs at CPL 3 with IOPL 0, so privileged
 *       instructions (cli, in, mov from %cr0, hlt, wrmsr, rdpmc without
 *       CR4.PCE) raise #GP (vector 13, through UC_HOOK_INTR) at the
 *       instruction, each a first fault again after the one before (the
 *       hook delivers it: no double fault), and rdtsc (CR4.TSD clear) runs;
 *       with CR4.TSD set rdtsc raises #GP, and so does cpuid while
 *       MSR_MISC_FEATURES_ENABLES (0x140) has its CPUID-faulting bit.
 *   (q) uc_elfrun_spin_yield: with it on, x86 pause and arm64 yield and wfe
 *       end the run with the pc on the next instruction; off, they run on.
 * Built and run by scripts/unicorn/check.sh. Prints "N passed, N failed".
 * The same binary also runs against Debian's libunicorn 2.0.1 for comparison
 * (check.sh --compare); then (e) is skipped.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>
#include <unicorn/unicorn.h>

#define CODE 0x10000ULL     /* R|X: the code blob */
#define DATA 0x100000ULL    /* RW, 1 MiB */
#define RWXD 0x300000ULL    /* RWX, 1 MiB: stores to a page that may hold code */
#define SMC 0x200000ULL     /* RWX, 8 KiB */
#define STACK 0x500000ULL   /* RW, 64 KiB */
#define RO 0x600000ULL      /* R */
#define LATE 0x700000ULL    /* RW, becomes RWX / R later */
#define UNMAPPED 0x900000ULL
#define RMW_CODE 0xa00000ULL /* R|X: the read-modify-write cases */
#define RO_PTR 0xa10000ULL   /* R, from host memory */
#define RO_LATE 0xa20000ULL  /* RW from host memory, then R */

/* as --64, intel syntax (see offsets below) */
static const uint8_t blob[] = {
    /* 0x00 store_loop: rdi = base, rcx = iterations, 4 stores per iteration */
    0x48, 0x89, 0xc8,                               /* mov rax, rcx */
    0x25, 0xf8, 0xff, 0x00, 0x00,                   /* and eax, 0xfff8 */
    0x48, 0x89, 0x0c, 0x07,                         /* mov [rdi+rax], rcx */
    0x48, 0x89, 0x8c, 0x07, 0x00, 0x00, 0x01, 0x00, /* mov [rdi+rax+0x10000], rcx */
    0x48, 0x89, 0x8c, 0x07, 0x00, 0x00, 0x02, 0x00, /* mov [rdi+rax+0x20000], rcx */
    0x48, 0x89, 0x8c, 0x07, 0x00, 0x00, 0x03, 0x00, /* mov [rdi+rax+0x30000], rcx */
    0x48, 0xff, 0xc9,                               /* dec rcx */
    0x75, 0xd7,                                     /* jnz store_loop */
    /* 0x29 */ 0x90,
    /* 0x2a smc_call: rdi = T ("mov eax,1; ret"), rsp set */
    0xff, 0xd7,                                     /* call rdi */
    0x89, 0xc3,                                     /* mov ebx, eax */
    0xc6, 0x47, 0x01, 0x02,                         /* mov byte [rdi+1], 2 */
    0xff, 0xd7,                                     /* call rdi */
    /* 0x34 */ 0x90,
    /* 0x35 smc_inline: patches the immediate of the next instruction */
    0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x02,       /* mov byte [rip+1], 2 */
    0xb8, 0x01, 0x00, 0x00, 0x00,                   /* mov eax, 1 */
    /* 0x41 */ 0x90,
    /* 0x42 one_store: rdi = address */
    0x48, 0xc7, 0x07, 0x34, 0x12, 0x00, 0x00,       /* mov qword [rdi], 0x1234 */
    /* 0x49 */ 0x90,
    /* 0x4a write_code: stores "mov eax,1; ret" at rdi */
    0xc7, 0x07, 0xb8, 0x01, 0x00, 0x00,             /* mov dword [rdi], 0x1b8 */
    0x66, 0xc7, 0x47, 0x04, 0x00, 0xc3,             /* mov word [rdi+4], 0xc300 */
    /* 0x56 */ 0x90,
    /* 0x57 precise_store: rdi = address */
    0xbb, 0x01, 0x00, 0x00, 0x00,                   /* mov ebx, 1 */
    0x48, 0x89, 0x07,                               /* mov [rdi], rax */
    0xbb, 0x02, 0x00, 0x00, 0x00,                   /* mov ebx, 2 */
    /* 0x64 */ 0x90,
    /* 0x65 precise_load: rdi = address */
    0xbb, 0x01, 0x00, 0x00, 0x00,                   /* mov ebx, 1 */
    0x48, 0x8b, 0x07,                               /* mov rax, [rdi] */
    0xbb, 0x02, 0x00, 0x00, 0x00,                   /* mov ebx, 2 */
    /* 0x72 */ 0x90,
    /* 0x73 rep_movsb: rsi, rdi, rcx set */
    0xf3, 0xa4,                                     /* rep movsb */
    /* 0x75 */ 0x90,
    /* 0x76 rep_stosb: al, rdi, rcx set */
    0xf3, 0xaa,                                     /* rep stosb */
    /* 0x78 */ 0x90,
};
#define STORE_LOOP 0x00
#define STORE_END 0x29
#define SMC_CALL 0x2a
#define SMC_CALL_END 0x34
#define SMC_INLINE 0x35
#define SMC_INLINE_END 0x41
#define ONE_STORE 0x42
#define ONE_STORE_END 0x49
#define WRITE_CODE 0x4a
#define WRITE_CODE_END 0x56
#define PRECISE_ST 0x57
#define PRECISE_ST_MEM 0x5c
#define PRECISE_ST_NEXT 0x5f
#define PRECISE_ST_END 0x64
#define PRECISE_LD 0x65
#define PRECISE_LD_MEM 0x6a
#define PRECISE_LD_END 0x72
#define REP_MOVSB 0x73
#define REP_MOVSB_END 0x75
#define REP_STOSB 0x76
#define REP_STOSB_END 0x78

static const uint8_t T[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3}; /* mov eax,1; ret */

static int passed, failed;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            passed++;                                                          \
            printf("ok   ");                                                   \
        } else {                                                               \
            failed++;                                                          \
            printf("FAIL ");                                                   \
        }                                                                      \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
    } while (0)

#define MUST(call)                                                             \
    do {                                                                       \
        uc_err e_ = (call);                                                    \
        if (e_ != UC_ERR_OK) {                                                 \
            printf("FAIL %s:%d %s: %s\n", __FILE__, __LINE__, #call,           \
                   uc_strerror(e_));                                           \
            exit(2);                                                           \
        }                                                                      \
    } while (0)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Every check runs twice: through the TLB, then in direct mode
 * (uc_elfrun_direct), where guest memory is host MAP_SHARED memory mapped
 * with uc_mem_map_ptr, as elfrun maps it. RO stays uc_mem_map memory
 * (private: never in the window, so each access there takes the fault path).
 */
#define DIRECT_BITS 40
typedef uc_err (*direct_fn)(uc_engine *, int);
static direct_fn direct_on;
static int direct;

static void *shared(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return p;
}

/* guest memory as the mode wants it (in direct mode, never given back) */
static void map(uc_engine *uc, uint64_t at, uint64_t len, uint32_t perms)
{
    if (direct) {
        MUST(uc_mem_map_ptr(uc, at, len, perms, shared(len)));
    } else {
        MUST(uc_mem_map(uc, at, len, perms));
    }
}

static uc_engine *new_engine(void)
{
    uc_engine *uc;
    MUST(uc_open(UC_ARCH_X86, UC_MODE_64, &uc));
    if (direct) {
        MUST(direct_on(uc, DIRECT_BITS));
    }
    return uc;
}

static uc_engine *open_engine(void)
{
    uc_engine *uc = new_engine();
    map(uc, CODE, 0x10000, UC_PROT_READ | UC_PROT_EXEC);
    map(uc, DATA, 0x100000, UC_PROT_READ | UC_PROT_WRITE);
    map(uc, RWXD, 0x100000, UC_PROT_ALL);
    map(uc, SMC, 0x2000, UC_PROT_ALL);
    map(uc, STACK, 0x10000, UC_PROT_READ | UC_PROT_WRITE);
    MUST(uc_mem_map(uc, RO, 0x1000, UC_PROT_READ));
    map(uc, LATE, 0x1000, UC_PROT_READ | UC_PROT_WRITE);
    MUST(uc_mem_write(uc, CODE, blob, sizeof blob));
    MUST(uc_mem_write(uc, SMC + 0x1000, blob, sizeof blob));
    uint64_t rsp = STACK + 0x10000 - 0x100;
    MUST(uc_reg_write(uc, UC_X86_REG_RSP, &rsp));
    return uc;
}

static uc_err run(uc_engine *uc, uint64_t base, int from, int to, uint64_t rdi,
                  uint64_t rcx)
{
    MUST(uc_reg_write(uc, UC_X86_REG_RDI, &rdi));
    MUST(uc_reg_write(uc, UC_X86_REG_RCX, &rcx));
    return uc_emu_start(uc, base + from, base + to, 0, 0);
}

static uint64_t reg(uc_engine *uc, int r)
{
    uint64_t v = 0;
    MUST(uc_reg_read(uc, r, &v));
    return v;
}

static uint64_t hook_count;
static void on_write(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
                     int64_t value, void *user)
{
    (void)uc; (void)type; (void)addr; (void)size; (void)value; (void)user;
    hook_count++;
}
static bool on_write_prot(uc_engine *uc, uc_mem_type type, uint64_t addr,
                          int size, int64_t value, void *user)
{
    (void)uc; (void)type; (void)addr; (void)size; (void)value; (void)user;
    hook_count++;
    return false; /* not handled: the store must still fail */
}
static void on_read(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
                    int64_t value, void *user)
{
    (void)uc; (void)type; (void)addr; (void)size; (void)value; (void)user;
}

static void bench(uint64_t iters)
{
    const char *names[] = {"non-exec RW page", "RWX page"};
    uint64_t bases[] = {DATA, RWXD};
    for (int i = 0; i < 2; i++) {
        uc_engine *uc = open_engine();
        MUST(run(uc, CODE, STORE_LOOP, STORE_END, bases[i], 1000)); /* warm up */
        double t0 = now_ms();
        uc_err e = run(uc, CODE, STORE_LOOP, STORE_END, bases[i], iters);
        double ms = now_ms() - t0;
        uint64_t probe = 0;
        MUST(uc_mem_read(uc, bases[i] + 8, &probe, 8));
        CHECK(e == UC_ERR_OK && reg(uc, UC_X86_REG_RCX) == 0,
              "(a) store loop on %s: %" PRIu64 " stores in %.1f ms = %.2f ns/store",
              names[i], iters * 4, ms, ms * 1e6 / (double)(iters * 4));
        uc_close(uc);
    }
}

static void smc_tests(void)
{
    uc_engine *uc = open_engine();

    /* (b1) call T, overwrite its immediate from guest code, call T again */
    MUST(uc_mem_write(uc, SMC, T, sizeof T));
    uc_err e = run(uc, CODE, SMC_CALL, SMC_CALL_END, SMC, 0);
    CHECK(e == UC_ERR_OK && reg(uc, UC_X86_REG_RBX) == 1 &&
              reg(uc, UC_X86_REG_RAX) == 2,
          "(b1) SMC on RWX page: first call eax=%" PRIu64 ", after the guest "
          "patched it eax=%" PRIu64 " (want 1, 2) [%s]",
          reg(uc, UC_X86_REG_RBX), reg(uc, UC_X86_REG_RAX), uc_strerror(e));

    /* (b1') restore T from the host side: uc_mem_write does not drop
     * translated code, uc_ctl_remove_cache does (what elfrun must do when it
     * writes into executable guest memory). Then SMC again. */
    MUST(uc_mem_write(uc, SMC + 1, T + 1, 1));
    MUST(uc_ctl_remove_cache(uc, SMC, SMC + 0x1000));
    e = run(uc, CODE, SMC_CALL, SMC_CALL_END, SMC, 0);
    CHECK(e == UC_ERR_OK && reg(uc, UC_X86_REG_RBX) == 1 &&
              reg(uc, UC_X86_REG_RAX) == 2,
          "(b1') host rewrite + uc_ctl_remove_cache, then SMC again: eax %" PRIu64
          " -> %" PRIu64 " (want 1 -> 2)",
          reg(uc, UC_X86_REG_RBX), reg(uc, UC_X86_REG_RAX));

    /* (b2) a store that patches the next instruction in the same block */
    e = run(uc, SMC + 0x1000, SMC_INLINE, SMC_INLINE_END, 0, 0);
    CHECK(e == UC_ERR_OK && reg(uc, UC_X86_REG_RAX) == 2,
          "(b2) SMC inside the running block: eax=%" PRIu64 " (want 2)",
          reg(uc, UC_X86_REG_RAX));
    uc_close(uc);

    /* (b3) guest writes code into an RW page (TLB entry filled without the
     * slow path), uc_mem_protect adds EXEC, then SMC on it. A read hook on
     * the page disables Unicorn's own re-marking in tb_gen_code, so this
     * needs the TLB flush the patch adds to uc_mem_protect. */
    for (int with_hook = 0; with_hook < 2; with_hook++) {
        uc = open_engine();
        uc_hook hh;
        MUST(run(uc, CODE, WRITE_CODE, WRITE_CODE_END, LATE, 0));
        if (with_hook)
            MUST(uc_hook_add(uc, &hh, UC_HOOK_MEM_READ, (void *)on_read, NULL,
                             LATE, LATE + 0xfff));
        MUST(uc_mem_protect(uc, LATE, 0x1000, UC_PROT_ALL));
        e = run(uc, CODE, SMC_CALL, SMC_CALL_END, LATE, 0);
        CHECK(e == UC_ERR_OK && reg(uc, UC_X86_REG_RBX) == 1 &&
                  reg(uc, UC_X86_REG_RAX) == 2,
              "(b3%s) code stored into an RW page, then mprotect RWX, then SMC: "
              "eax %" PRIu64 " -> %" PRIu64 " (want 1 -> 2)",
              with_hook ? "+read hook" : "", reg(uc, UC_X86_REG_RBX),
              reg(uc, UC_X86_REG_RAX));
        uc_close(uc);
    }
}

static uc_hook late_hook;
static int late_added;
static void add_hook_mid_run(uc_engine *uc, uint64_t addr, uint32_t size,
                             void *user)
{
    (void)addr; (void)size; (void)user;
    if (!late_added) {
        late_added = 1;
        MUST(uc_hook_add(uc, &late_hook, UC_HOOK_MEM_WRITE, (void *)on_write,
                         NULL, DATA, DATA + 0xfffff));
    }
}

static void hook_tests(void)
{
    uc_hook hh;
    /* (c1) hook added before any code ran */
    uc_engine *uc = open_engine();
    hook_count = 0;
    MUST(uc_hook_add(uc, &hh, UC_HOOK_MEM_WRITE, (void *)on_write, NULL, DATA,
                     DATA + 0xfffff));
    uc_err e = run(uc, CODE, STORE_LOOP, STORE_END, DATA, 100);
    CHECK(e == UC_ERR_OK && hook_count == 400,
          "(c1) UC_HOOK_MEM_WRITE on non-exec page: %" PRIu64 " calls (want 400)",
          hook_count);
    uc_close(uc);

    /* (c2) hook added after the store loop was translated and ran */
    uc = open_engine();
    MUST(run(uc, CODE, STORE_LOOP, STORE_END, DATA, 100));
    hook_count = 0;
    MUST(uc_hook_add(uc, &hh, UC_HOOK_MEM_WRITE, (void *)on_write, NULL, DATA,
                     DATA + 0xfffff));
    e = run(uc, CODE, STORE_LOOP, STORE_END, DATA, 100);
    CHECK(e == UC_ERR_OK && hook_count == 400,
          "(c2) UC_HOOK_MEM_WRITE added after the code ran: %" PRIu64
          " calls (want 400)",
          hook_count);
    /* (c3) deleting it: stores go on working */
    MUST(uc_hook_del(uc, hh));
    hook_count = 0;
    e = run(uc, CODE, STORE_LOOP, STORE_END, DATA, 100);
    CHECK(e == UC_ERR_OK && hook_count == 0,
          "(c3) after uc_hook_del: %" PRIu64 " calls (want 0)", hook_count);
    uc_close(uc);

    /* (c4) hook added from a callback in the middle of a run, after the store
     * loop was translated without hooks and its TLB entries were filled:
     * needs the TLB flush the patch adds to uc_hook_add */
    uc = open_engine();
    MUST(run(uc, CODE, STORE_LOOP, STORE_END, DATA, 100));
    MUST(uc_hook_add(uc, &hh, UC_HOOK_CODE, (void *)add_hook_mid_run, NULL,
                     CODE + 0x24, CODE + 0x24)); /* the "dec rcx" */
    hook_count = 0;
    late_added = 0;
    e = run(uc, CODE, STORE_LOOP, STORE_END, DATA, 100);
    CHECK(e == UC_ERR_OK && hook_count == 396,
          "(c4) UC_HOOK_MEM_WRITE added during a run: %" PRIu64
          " calls (want 396)",
          hook_count);
    uc_close(uc);
}

static void fault_tests(void)
{
    uc_engine *uc = open_engine();
    uc_err e = run(uc, CODE, ONE_STORE, ONE_STORE_END, RO, 0);
    CHECK(e == UC_ERR_WRITE_PROT, "(d1) store to read-only page: %s (want %s)",
          uc_strerror(e), uc_strerror(UC_ERR_WRITE_PROT));

    e = run(uc, CODE, ONE_STORE, ONE_STORE_END, UNMAPPED, 0);
    CHECK(e == UC_ERR_WRITE_UNMAPPED, "(d2) store to unmapped page: %s",
          uc_strerror(e));

    /* (d3) page stored to (fast TLB entry), then made read-only */
    MUST(run(uc, CODE, ONE_STORE, ONE_STORE_END, LATE, 0));
    MUST(uc_mem_protect(uc, LATE, 0x1000, UC_PROT_READ));
    e = run(uc, CODE, ONE_STORE, ONE_STORE_END, LATE, 0);
    CHECK(e == UC_ERR_WRITE_PROT,
          "(d3) store after uc_mem_protect(READ) of a page stored to before: %s",
          uc_strerror(e));

    /* (d4) page stored to, then unmapped */
    MUST(uc_mem_protect(uc, LATE, 0x1000, UC_PROT_READ | UC_PROT_WRITE));
    MUST(run(uc, CODE, ONE_STORE, ONE_STORE_END, LATE, 0));
    MUST(uc_mem_unmap(uc, LATE, 0x1000));
    e = run(uc, CODE, ONE_STORE, ONE_STORE_END, LATE, 0);
    CHECK(e == UC_ERR_WRITE_UNMAPPED,
          "(d4) store after uc_mem_unmap of a page stored to before: %s",
          uc_strerror(e));

    /*
     * (d6, d7) a load fills the page's TLB entry, then a store to it: a
     * read-only page must still refuse the store, whether it is a second
     * instruction or the write half of a read-modify-write one
     */
    {
        static const uint8_t rmw[] = {
            0x8b, 0x07,       /* 0: mov eax, [rdi] */
            0x89, 0x07,       /* 2: mov [rdi], eax */
            0x83, 0x07, 0x01, /* 4: add dword [rdi], 1 */
        };
        /* RO: uc_mem_map's; RO_PTR: mapped read-only from host memory, as
           elfrun maps; RO_LATE: from host memory, made read-only after use */
        static const struct { const char *what; uint64_t at; } pages[] = {
            {"uc_mem_map(READ)", RO},
            {"uc_mem_map_ptr(READ)", RO_PTR},
            {"uc_mem_map_ptr(READ|WRITE), loaded from, then uc_mem_protect(READ)", RO_LATE},
        };
        uint32_t word = 0x11223344, now = 0;
        MUST(uc_mem_map(uc, RMW_CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC));
        MUST(uc_mem_write(uc, RMW_CODE, rmw, sizeof rmw));
        MUST(uc_mem_map_ptr(uc, RO_PTR, 0x1000, UC_PROT_READ, shared(0x1000)));
        MUST(uc_mem_map_ptr(uc, RO_LATE, 0x1000, UC_PROT_READ | UC_PROT_WRITE, shared(0x1000)));
        for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
            MUST(uc_mem_write(uc, pages[i].at, &word, sizeof word));
            if (pages[i].at == RO_LATE) {
                MUST(run(uc, RMW_CODE, 0, 2, RO_LATE, 0));
                MUST(uc_mem_protect(uc, RO_LATE, 0x1000, UC_PROT_READ));
            }
            e = run(uc, RMW_CODE, 0, 4, pages[i].at, 0);
            CHECK(e == UC_ERR_WRITE_PROT, "(d6) load, then store to the same page, %s: %s (want %s)",
                  pages[i].what, uc_strerror(e), uc_strerror(UC_ERR_WRITE_PROT));
            e = run(uc, RMW_CODE, 4, 7, pages[i].at, 0);
            MUST(uc_mem_read(uc, pages[i].at, &now, sizeof now));
            CHECK(e == UC_ERR_WRITE_PROT && now == word, "(d7) add to memory, %s: %s, word 0x%x (want %s, 0x%x)",
                  pages[i].what, uc_strerror(e), now, uc_strerror(UC_ERR_WRITE_PROT), word);
        }
    }

    /* (d6) a store after unmapping a large region (one full TLB flush in
     * the patch) or a small one (page by page) faults; code mapped again at
     * the same place after an unmap runs as the new code (its old
     * translation must not be found, also not through the jump cache) */
    static const uint64_t sizes[] = {128 * 0x1000, 2 * 0x1000};
    for (int i = 0; i < 2; i++) {
        uint64_t at = 0xd00000, len = sizes[i], page = at + len - 0x1000;
        map(uc, at, len, UC_PROT_ALL);
        MUST(run(uc, CODE, ONE_STORE, ONE_STORE_END, page, 0));
        uint8_t one[] = {0xb8, 0x01, 0x00, 0x00, 0x00}, seven[] = {0xb8, 0x07, 0x00, 0x00, 0x00};
        MUST(uc_mem_write(uc, page + 0x100, one, sizeof one));
        MUST(uc_emu_start(uc, page + 0x100, page + 0x105, 0, 0));
        uint64_t r1 = reg(uc, UC_X86_REG_RAX);
        MUST(uc_mem_unmap(uc, at, len));
        e = run(uc, CODE, ONE_STORE, ONE_STORE_END, page, 0);
        map(uc, at, len, UC_PROT_ALL);
        MUST(uc_mem_write(uc, page + 0x100, seven, sizeof seven));
        MUST(uc_emu_start(uc, page + 0x100, page + 0x105, 0, 0));
        uint64_t r2 = reg(uc, UC_X86_REG_RAX);
        MUST(uc_mem_unmap(uc, at, len));
        CHECK(e == UC_ERR_WRITE_UNMAPPED && r1 == 1 && r2 == 7,
              "(d6) %" PRIu64 "-page region unmapped: store %s; code before/after: eax=%" PRIu64 " / %" PRIu64 " (want 1 / 7)",
              len / 0x1000, uc_strerror(e), r1, r2);
    }

    /* (d5) UC_HOOK_MEM_WRITE_PROT sees the fault */
    uc_hook hh;
    hook_count = 0;
    MUST(uc_hook_add(uc, &hh, UC_HOOK_MEM_WRITE_PROT, (void *)on_write_prot, NULL, 1,
                     0));
    e = run(uc, CODE, ONE_STORE, ONE_STORE_END, RO, 0);
    CHECK(e == UC_ERR_WRITE_PROT && hook_count == 1,
          "(d5) UC_HOOK_MEM_WRITE_PROT called %" PRIu64 " time(s), %s",
          hook_count, uc_strerror(e));
    uc_close(uc);
}

static void stop_on_write(uc_engine *uc, uc_mem_type type, uint64_t addr,
                          int size, int64_t value, void *user)
{
    (void)type; (void)addr; (void)size; (void)value; (void)user;
    hook_count++;
    uc_emu_stop(uc);
}

static void precise_tests(void)
{
    uc_engine *uc = open_engine();
    uint64_t rax = 0x5555;
    MUST(uc_reg_write(uc, UC_X86_REG_RAX, &rax));
    /* (f1) translate and run the block once on a good address first */
    MUST(run(uc, CODE, PRECISE_ST, PRECISE_ST_END, DATA, 0));
    uc_err e = run(uc, CODE, PRECISE_ST, PRECISE_ST_END, UNMAPPED, 0);
    uint64_t rbx = reg(uc, UC_X86_REG_RBX), rip = reg(uc, UC_X86_REG_RIP);
    CHECK(e == UC_ERR_WRITE_UNMAPPED && rbx == 1 && rip == CODE + PRECISE_ST_MEM,
          "(f1) store to an unmapped page mid-block: %s, rbx=%" PRIu64
          " (want 1), rip=+0x%" PRIx64 " (want +0x%x)",
          uc_strerror(e), rbx, (uint64_t)(rip - CODE), PRECISE_ST_MEM);
    e = run(uc, CODE, PRECISE_ST, PRECISE_ST_END, RO, 0);
    rbx = reg(uc, UC_X86_REG_RBX);
    rip = reg(uc, UC_X86_REG_RIP);
    CHECK(e == UC_ERR_WRITE_PROT && rbx == 1 && rip == CODE + PRECISE_ST_MEM,
          "(f2) store to a read-only page mid-block: %s, rbx=%" PRIu64
          " (want 1), rip=+0x%" PRIx64 " (want +0x%x)",
          uc_strerror(e), rbx, (uint64_t)(rip - CODE), PRECISE_ST_MEM);
    MUST(run(uc, CODE, PRECISE_LD, PRECISE_LD_END, DATA, 0));
    MUST(uc_reg_write(uc, UC_X86_REG_RAX, &rax));
    e = run(uc, CODE, PRECISE_LD, PRECISE_LD_END, UNMAPPED, 0);
    rbx = reg(uc, UC_X86_REG_RBX);
    rip = reg(uc, UC_X86_REG_RIP);
    uint64_t rax2 = reg(uc, UC_X86_REG_RAX);
    CHECK(e == UC_ERR_READ_UNMAPPED && rbx == 1 && rax2 == rax &&
              rip == CODE + PRECISE_LD_MEM,
          "(f3) load from an unmapped page mid-block: %s, rbx=%" PRIu64
          " (want 1), rax kept: %s, rip=+0x%" PRIx64 " (want +0x%x)",
          uc_strerror(e), rbx, rax2 == rax ? "yes" : "no", (uint64_t)(rip - CODE),
          PRECISE_LD_MEM);
    /* (f4) the block was translated without hooks; a UC_HOOK_MEM_WRITE that
     * stops the engine must stop it before "mov ebx, 2" */
    uc_hook hh;
    hook_count = 0;
    MUST(uc_hook_add(uc, &hh, UC_HOOK_MEM_WRITE, (void *)stop_on_write, NULL,
                     DATA, DATA + 0xfffff));
    e = run(uc, CODE, PRECISE_ST, PRECISE_ST_END, DATA, 0);
    rbx = reg(uc, UC_X86_REG_RBX);
    CHECK(e == UC_ERR_OK && hook_count == 1 && rbx == 1,
          "(f4) UC_HOOK_MEM_WRITE calling uc_emu_stop: %s, %" PRIu64
          " call(s), rbx=%" PRIu64 " (want 1)",
          uc_strerror(e), hook_count, rbx);
    uc_close(uc);
}

static void rep_tests(void)
{
    uc_engine *uc = open_engine();
    static uint8_t src[40000], out[40000];
    for (size_t i = 0; i < sizeof src; i++) {
        src[i] = (uint8_t)(i * 7 + (i >> 8));
    }
    MUST(uc_mem_write(uc, DATA + 3, src, sizeof src));
    uint64_t rsi = DATA + 3;
    MUST(uc_reg_write(uc, UC_X86_REG_RSI, &rsi));
    uc_err e = run(uc, CODE, REP_MOVSB, REP_MOVSB_END, DATA + 0x20001, sizeof src);
    MUST(uc_mem_read(uc, DATA + 0x20001, out, sizeof out));
    uint64_t rcx = reg(uc, UC_X86_REG_RCX), rdi = reg(uc, UC_X86_REG_RDI);
    CHECK(e == UC_ERR_OK && !memcmp(src, out, sizeof src) && rcx == 0 &&
              rdi == DATA + 0x20001 + sizeof src,
          "(h1) rep movsb of %zu bytes over 10 pages: %s, same bytes: %s, rcx=%" PRIu64
          ", rdi=+0x%" PRIx64, sizeof src, uc_strerror(e),
          memcmp(src, out, sizeof src) ? "no" : "yes", rcx, (uint64_t)(rdi - DATA));
    /* (h2) into the unmapped page after SMC's 8 KiB, 10 bytes before it */
    rsi = DATA;
    MUST(uc_reg_write(uc, UC_X86_REG_RSI, &rsi));
    e = run(uc, CODE, REP_MOVSB, REP_MOVSB_END, SMC + 0x2000 - 10, 100);
    rcx = reg(uc, UC_X86_REG_RCX);
    rdi = reg(uc, UC_X86_REG_RDI);
    rsi = reg(uc, UC_X86_REG_RSI);
    uint64_t rip = reg(uc, UC_X86_REG_RIP);
    CHECK(e == UC_ERR_WRITE_UNMAPPED && rcx == 90 && rdi == SMC + 0x2000 &&
              rsi == DATA + 10 && rip == CODE + REP_MOVSB,
          "(h2) rep movsb into an unmapped page: %s, rcx=%" PRIu64
          " (want 90), rdi=+%" PRId64 ", rsi=+%" PRId64 " (want +10 each), rip at the insn: %s",
          uc_strerror(e), rcx, (int64_t)(rdi - (SMC + 0x2000 - 10)),
          (int64_t)(rsi - DATA), rip == CODE + REP_MOVSB ? "yes" : "no");
    /* (h3) stosb onto a read-only page from its start */
    uint64_t al = 0x41;
    MUST(uc_reg_write(uc, UC_X86_REG_RAX, &al));
    e = run(uc, CODE, REP_STOSB, REP_STOSB_END, RO, 16);
    rcx = reg(uc, UC_X86_REG_RCX);
    rdi = reg(uc, UC_X86_REG_RDI);
    CHECK(e == UC_ERR_WRITE_PROT && rcx == 16 && rdi == RO,
          "(h3) rep stosb onto a read-only page: %s, rcx=%" PRIu64 " (want 16), rdi unchanged: %s",
          uc_strerror(e), rcx, rdi == RO ? "yes" : "no");
    /* (h4) a write hook sees every byte, also for code translated before */
    uc_hook hh;
    hook_count = 0;
    MUST(uc_hook_add(uc, &hh, UC_HOOK_MEM_WRITE, (void *)on_write, NULL,
                     DATA, DATA + 0xfffff));
    e = run(uc, CODE, REP_STOSB, REP_STOSB_END, DATA + 0x5000, 300);
    CHECK(e == UC_ERR_OK && hook_count == 300 && reg(uc, UC_X86_REG_RCX) == 0,
          "(h4) UC_HOOK_MEM_WRITE over rep stosb of 300 bytes: %s, %" PRIu64 " call(s)",
          uc_strerror(e), hook_count);
    uc_close(uc);
}

#define REBASE 0xa00000ULL  /* 2 pages, over host memory A, then B */
#define REBASE_BIG 0xb00000ULL  /* 128 pages: the full-flush path */
#define REBASE_X 0xc00000ULL  /* 1 page of code */
typedef uc_err (*rebase_fn)(uc_engine *, uint64_t, uint64_t, void *);

static uint8_t *pages(size_t n)
{
    void *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, (direct ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return p;
}

static void rebase_tests(void)
{
    /* looked up at run time: check.sh --compare runs this binary against
     * Debian's library too, which has no such function */
    rebase_fn rebase = (rebase_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_mem_rebase");
    if (rebase == NULL) {
        printf("skip (g) uc_elfrun_mem_rebase: not in this library\n");
        return;
    }
    uc_engine *uc = open_engine();
    uint8_t *a = pages(2), *b = pages(2), *big_a = pages(128), *big_b = pages(128);
    uint8_t *xa = pages(1), *xb = pages(1);
    uint64_t va = 0x1111, vb = 0x2222;
    memcpy(a + 4096, &va, 8);
    memcpy(b + 4096, &vb, 8);
    memcpy(big_a + 100 * 4096, &va, 8);
    memcpy(big_b + 100 * 4096, &vb, 8);
    MUST(uc_mem_map_ptr(uc, REBASE, 2 * 4096, UC_PROT_READ | UC_PROT_WRITE, a));
    MUST(uc_mem_map_ptr(uc, REBASE_BIG, 128 * 4096, UC_PROT_READ | UC_PROT_WRITE, big_a));

    /* (g1) a load fills the TLB from A; after the rebase it reads B */
    MUST(run(uc, CODE, PRECISE_LD, PRECISE_LD_END, REBASE + 4096, 0));
    uint64_t r1 = reg(uc, UC_X86_REG_RAX);
    MUST(rebase(uc, REBASE, 2 * 4096, b));
    MUST(run(uc, CODE, PRECISE_LD, PRECISE_LD_END, REBASE + 4096, 0));
    uint64_t r2 = reg(uc, UC_X86_REG_RAX);
    CHECK(r1 == va && r2 == vb, "(g1) load before/after rebase: 0x%" PRIx64 " / 0x%" PRIx64 " (want 0x%" PRIx64 " / 0x%" PRIx64 ")", r1, r2, va, vb);
    /* (g2) a store after the rebase lands in B, and A is untouched */
    MUST(run(uc, CODE, ONE_STORE, ONE_STORE_END, REBASE + 4096, 0));
    uint64_t in_a, in_b;
    memcpy(&in_a, a + 4096, 8);
    memcpy(&in_b, b + 4096, 8);
    CHECK(in_a == va && in_b == 0x1234, "(g2) store after rebase: A=0x%" PRIx64 " (want 0x%" PRIx64 "), B=0x%" PRIx64 " (want 0x1234)", in_a, va, in_b);
    /* (g3) a region of more than 64 pages (the whole TLB is flushed) */
    MUST(run(uc, CODE, PRECISE_LD, PRECISE_LD_END, REBASE_BIG + 100 * 4096, 0));
    r1 = reg(uc, UC_X86_REG_RAX);
    MUST(rebase(uc, REBASE_BIG, 128 * 4096, big_b));
    MUST(run(uc, CODE, PRECISE_LD, PRECISE_LD_END, REBASE_BIG + 100 * 4096, 0));
    r2 = reg(uc, UC_X86_REG_RAX);
    CHECK(r1 == va && r2 == vb, "(g3) 128-page region before/after rebase: 0x%" PRIx64 " / 0x%" PRIx64, r1, r2);
    /* (g4) code: "mov eax, 1" in A, "mov eax, 7" in B; the translation goes */
    memcpy(xa, T, sizeof T);
    memcpy(xb, T, sizeof T);
    xb[1] = 7;
    MUST(uc_mem_map_ptr(uc, REBASE_X, 4096, UC_PROT_READ | UC_PROT_EXEC, xa));
    MUST(uc_emu_start(uc, REBASE_X, REBASE_X + 5, 0, 0));
    r1 = reg(uc, UC_X86_REG_RAX) & 0xffffffff;
    MUST(rebase(uc, REBASE_X, 4096, xb));
    MUST(uc_emu_start(uc, REBASE_X, REBASE_X + 5, 0, 0));
    r2 = reg(uc, UC_X86_REG_RAX) & 0xffffffff;
    CHECK(r1 == 1 && r2 == 7, "(g4) code before/after rebase: eax=%" PRIu64 " / %" PRIu64 " (want 1 / 7)", r1, r2);
    /* (g5) only exactly one uc_mem_map_ptr region */
    uc_err e1 = rebase(uc, REBASE, 4096, a);            /* part of it */
    uc_err e2 = rebase(uc, REBASE + 4096, 4096, a);     /* not its start */
    uc_err e3 = rebase(uc, RO, 0x1000, big_a);          /* uc_mem_map memory */
    uc_err e4 = rebase(uc, UNMAPPED, 4096, a);          /* nothing there */
    uc_err e5 = rebase(uc, REBASE, 2 * 4096, NULL);
    CHECK(e1 == UC_ERR_ARG && e2 == UC_ERR_ARG && e3 == UC_ERR_ARG && e4 == UC_ERR_ARG && e5 == UC_ERR_ARG,
          "(g5) rebase of what is not exactly one uc_mem_map_ptr region: %s, %s, %s, %s, %s",
          uc_strerror(e1), uc_strerror(e2), uc_strerror(e3), uc_strerror(e4), uc_strerror(e5));
    uc_close(uc);
}


#define CHAIN_A 0xd00000ULL /* 1 page of code (R|X) that jumps to CHAIN_B */
#define CHAIN_B 0xd01000ULL /* 1 page of code (R|W|X), a region of its own */

/* CHAIN_A: +0 jmp B; +5 nop (where runs end); +0x10 mov [rdi], sil; jmp B */
static const uint8_t chain_a[] = {
    0xe9, 0xfb, 0x0f, 0x00, 0x00, /* +0x00 jmp CHAIN_B */
    0x90,                         /* +0x05 nop */
    0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
    0x40, 0x88, 0x37,             /* +0x10 mov [rdi], sil */
    0xe9, 0xe8, 0x0f, 0x00, 0x00, /* +0x13 jmp CHAIN_B */
};
/* CHAIN_B: mov eax, imm32 (imm at +1); jmp CHAIN_A+5 */
static void chain_b(uint8_t *page, uint32_t imm)
{
    static const uint8_t code[] = {0xb8, 0, 0, 0, 0, 0xe9, 0xfb, 0xef, 0xff, 0xff};
    memcpy(page, code, sizeof code);
    memcpy(page + 1, &imm, 4);
}

/* run from CHAIN_A + from to CHAIN_A + 5; eax, or ~0 with the error in *e */
static uint64_t chain_run(uc_engine *uc, int from, uint64_t rdi, uint64_t rsi, uc_err *e)
{
    MUST(uc_reg_write(uc, UC_X86_REG_RDI, &rdi));
    MUST(uc_reg_write(uc, UC_X86_REG_RSI, &rsi));
    uint64_t zero = 0;
    MUST(uc_reg_write(uc, UC_X86_REG_RAX, &zero));
    *e = uc_emu_start(uc, CHAIN_A + from, CHAIN_A + 5, 0, 0);
    return *e == UC_ERR_OK ? reg(uc, UC_X86_REG_RAX) & 0xffffffff : ~0ULL;
}

static void chain_tests(void)
{
    rebase_fn rebase = (rebase_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_mem_rebase");
    uc_engine *uc = open_engine();
    uint8_t *a = pages(1), *b = pages(1), *c = pages(1), *d = pages(1);
    memcpy(a, chain_a, sizeof chain_a);
    chain_b(b, 1);
    chain_b(c, 5);
    chain_b(d, 6);
    MUST(uc_mem_map_ptr(uc, CHAIN_A, 4096, UC_PROT_READ | UC_PROT_EXEC, a));
    MUST(uc_mem_map_ptr(uc, CHAIN_B, 4096, UC_PROT_ALL, b));
    uc_err e1, e2;

    /* (j1) the second run takes the linked jump */
    uint64_t r1 = chain_run(uc, 0, 0, 0, &e1), r2 = chain_run(uc, 0, 0, 0, &e2);
    CHECK(r1 == 1 && r2 == 1, "(j1) jump to another page, twice: eax=%" PRIu64 " / %" PRIu64 " (want 1 / 1)", r1, r2);
    /* (j2) the host rewrites the target and drops its translations (as a
     * Unicorn user must: uc_mem_write into a uc_mem_map_ptr region does not) */
    chain_b(b, 2);
    MUST(uc_ctl_remove_cache(uc, CHAIN_B, CHAIN_B + 4096));
    r1 = chain_run(uc, 0, 0, 0, &e1);
    CHECK(r1 == 2, "(j2) after the host rewrote the target and removed its translations: eax=%" PRIu64 " (want 2)", r1);
    /* (j3) a guest store into the target, from the block that jumps there */
    r1 = chain_run(uc, 0x10, CHAIN_B + 1, 3, &e1);
    r2 = chain_run(uc, 0x10, CHAIN_B + 1, 4, &e2);
    CHECK(r1 == 3 && r2 == 4, "(j3) after a guest store into the target: eax=%" PRIu64 " / %" PRIu64 " (want 3 / 4)", r1, r2);
    /* (j4) the target's region rebased onto other code */
    if (rebase != NULL) {
        MUST(rebase(uc, CHAIN_B, 4096, c));
        r1 = chain_run(uc, 0, 0, 0, &e1);
        CHECK(r1 == 5, "(j4) after a rebase of the target: eax=%" PRIu64 " (want 5)", r1);
    } else {
        printf("skip (j4) uc_elfrun_mem_rebase: not in this library\n");
    }
    /* (j5) the target unmapped, other code mapped there */
    MUST(uc_mem_unmap(uc, CHAIN_B, 4096));
    MUST(uc_mem_map_ptr(uc, CHAIN_B, 4096, UC_PROT_ALL, d));
    r1 = chain_run(uc, 0, 0, 0, &e1);
    CHECK(r1 == 6, "(j5) after unmap and a new mapping of the target: eax=%" PRIu64 " (want 6)", r1);
    /* (j6) EXEC removed: the jump faults; (j7) and given back: runs again */
    MUST(uc_mem_protect(uc, CHAIN_B, 4096, UC_PROT_READ | UC_PROT_WRITE));
    r1 = chain_run(uc, 0, 0, 0, &e1);
    CHECK(e1 == UC_ERR_FETCH_PROT, "(j6) jump to a page that lost EXEC: %s (want %s)", uc_strerror(e1), uc_strerror(UC_ERR_FETCH_PROT));
    MUST(uc_mem_protect(uc, CHAIN_B, 4096, UC_PROT_READ | UC_PROT_EXEC));
    r1 = chain_run(uc, 0, 0, 0, &e1);
    CHECK(r1 == 6, "(j7) EXEC given back: eax=%" PRIu64 " (want 6)", r1);
    uc_close(uc);
}


typedef uc_err (*reg_ptr_fn)(uc_engine *, int, void **);
static reg_ptr_fn reg_ptr;
static uint64_t hook_rdi_seen;
/* a syscall hook that reads RDI and sets RAX through the pointers */
static void syscall_by_ptr(uc_engine *uc, void *user)
{
    (void)user;
    void *rdi = NULL, *rax = NULL;
    reg_ptr(uc, UC_X86_REG_RDI, &rdi);
    reg_ptr(uc, UC_X86_REG_RAX, &rax);
    hook_rdi_seen = *(uint64_t *)rdi;
    *(uint64_t *)rax = hook_rdi_seen + 1;
}

static void reg_ptr_tests(void)
{
    reg_ptr = (reg_ptr_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_reg_ptr");
    if (reg_ptr == NULL) {
        printf("skip (k) uc_elfrun_reg_ptr: not in this library\n");
        return;
    }
    uc_engine *uc = open_engine();
    static const int ids[] = {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RSI,
                              UC_X86_REG_RDI, UC_X86_REG_RBP, UC_X86_REG_RSP, UC_X86_REG_R8, UC_X86_REG_R9,
                              UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
                              UC_X86_REG_R15, UC_X86_REG_RIP};
    int n = sizeof ids / sizeof ids[0], same = 0;
    for (int i = 0; i < n; i++) {
        void *p = NULL;
        uint64_t v = 0x1111111111111111ULL * (uint64_t)(i + 1), back = 0, w = 0xabc0 + (uint64_t)i;
        MUST(uc_reg_write(uc, ids[i], &v));
        MUST(reg_ptr(uc, ids[i], &p));
        if (p == NULL || *(uint64_t *)p != v) continue;
        *(uint64_t *)p = w;
        MUST(uc_reg_read(uc, ids[i], &back));
        same += back == w;
    }
    void *fl = (void *)1;
    MUST(reg_ptr(uc, UC_X86_REG_EFLAGS, &fl));
    CHECK(same == n && fl == NULL, "(k1) %d of %d registers read and written through uc_elfrun_reg_ptr as by uc_reg_read/write; EFLAGS: %s",
          same, n, fl == NULL ? "none" : "a pointer");
    /* (k2) in a syscall hook: "syscall; mov rbx, rax" at SMC (RWX, free) */
    static const uint8_t code[] = {0x0f, 0x05, 0x48, 0x89, 0xc3};
    MUST(uc_mem_write(uc, SMC, code, sizeof code));
    uc_hook hh;
    MUST(uc_hook_add(uc, &hh, UC_HOOK_INSN, (void *)syscall_by_ptr, NULL, 1, 0, UC_X86_INS_SYSCALL));
    uint64_t rdi = 41;
    MUST(uc_reg_write(uc, UC_X86_REG_RDI, &rdi));
    uc_err e = uc_emu_start(uc, SMC, SMC + sizeof code, 0, 0);
    CHECK(e == UC_ERR_OK && hook_rdi_seen == 41 && reg(uc, UC_X86_REG_RBX) == 42,
          "(k2) a syscall hook reads RDI and sets RAX through the pointers: saw %" PRIu64 ", rbx=%" PRIu64 " (want 41, 42)",
          hook_rdi_seen, reg(uc, UC_X86_REG_RBX));
    uc_close(uc);
}

/* (l) direct mode only: what the window must get right beyond the checks above */
static uc_engine *nested_b;
static uint64_t nested_b_rax;
/* engine A's syscall hook runs engine B, which loads from the same address */
static void run_other(uc_engine *uc, void *user)
{
    (void)uc; (void)user;
    uint64_t rdi = DATA + 0x100;
    MUST(uc_reg_write(nested_b, UC_X86_REG_RDI, &rdi));
    MUST(uc_emu_start(nested_b, CODE + PRECISE_LD, CODE + PRECISE_LD_END, 0, 0));
    nested_b_rax = reg(nested_b, UC_X86_REG_RAX);
}

static uint64_t load_at(uc_engine *uc, uint64_t addr, uc_err *e)
{
    uint64_t z = 0;
    MUST(uc_reg_write(uc, UC_X86_REG_RAX, &z));
    *e = run(uc, CODE, PRECISE_LD, PRECISE_LD_END, addr, 0);
    return reg(uc, UC_X86_REG_RAX);
}

static void direct_tests(void)
{
    uc_err e, e2;
    uint64_t v;

    /* (l1) above the window (the helper), at its top, and across its end */
    uc_engine *uc = open_engine();
    uint64_t top = 1ULL << DIRECT_BITS;
    map(uc, top - 0x1000, 0x2000, UC_PROT_READ | UC_PROT_WRITE);
    map(uc, top + 0x100000, 0x1000, UC_PROT_READ | UC_PROT_WRITE);
    uint64_t a = 0x1111222233334444ULL, b = 0x5555666677778888ULL, c = 0x99990000aaaabbbbULL;
    MUST(uc_mem_write(uc, top - 8, &a, 8));
    MUST(uc_mem_write(uc, top, &b, 8));
    MUST(uc_mem_write(uc, top + 0x100000, &c, 8));
    uint64_t r1 = load_at(uc, top - 8, &e);
    uint64_t r2 = load_at(uc, top - 4, &e2);
    uint64_t r3 = load_at(uc, top + 0x100000, &e2);
    uint64_t want2 = (a >> 32) | (b << 32);
    MUST(run(uc, CODE, ONE_STORE, ONE_STORE_END, top + 0x100008, 0));
    MUST(uc_mem_read(uc, top + 0x100008, &v, 8));
    CHECK(e == UC_ERR_OK && e2 == UC_ERR_OK && r1 == a && r2 == want2 && r3 == c && v == 0x1234,
          "(l1) last word in the window 0x%" PRIx64 ", across its end 0x%" PRIx64 " (want 0x%" PRIx64 "), above it 0x%" PRIx64 ", a store above it 0x%" PRIx64,
          r1, r2, want2, r3, v);

    /* (l2) loads from private memory (RO: uc_mem_map), never in the window */
    uint64_t ro = 0x0123456789abcdefULL;
    MUST(uc_mem_write(uc, RO + 16, &ro, 8));
    r1 = load_at(uc, RO + 16, &e);
    CHECK(e == UC_ERR_OK && r1 == ro, "(l2) load from uc_mem_map memory: 0x%" PRIx64 " (want 0x%" PRIx64 ")", r1, ro);

    /* (l3) two engines, the same guest address, each its own memory: A B A */
    uc_engine *other = open_engine();
    uint64_t va = 0xaaaa, vb = 0xbbbb;
    MUST(uc_mem_write(uc, DATA + 0x100, &va, 8));
    MUST(uc_mem_write(other, DATA + 0x100, &vb, 8));
    r1 = load_at(uc, DATA + 0x100, &e);
    r2 = load_at(other, DATA + 0x100, &e);
    r3 = load_at(uc, DATA + 0x100, &e2);
    CHECK(e == UC_ERR_OK && e2 == UC_ERR_OK && r1 == va && r2 == vb && r3 == va,
          "(l3) two engines in turn: 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " (want 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 ")", r1, r2, r3, va, vb, va);

    /* (l4) A's syscall hook runs B; A's load after it sees A's memory
       ("syscall; mov rax, [rdi]" at SMC) */
    static const uint8_t code[] = {0x0f, 0x05, 0x48, 0x8b, 0x07};
    MUST(uc_mem_write(uc, SMC, code, sizeof code));
    uc_hook hh;
    MUST(uc_hook_add(uc, &hh, UC_HOOK_INSN, (void *)run_other, NULL, 1, 0, UC_X86_INS_SYSCALL));
    nested_b = other;
    uint64_t rdi = DATA + 0x100;
    MUST(uc_reg_write(uc, UC_X86_REG_RDI, &rdi));
    e = uc_emu_start(uc, SMC, SMC + sizeof code, 0, 0);
    CHECK(e == UC_ERR_OK && nested_b_rax == vb && reg(uc, UC_X86_REG_RAX) == va,
          "(l4) engine B run from A's hook read 0x%" PRIx64 ", then A read 0x%" PRIx64 " (want 0x%" PRIx64 ", 0x%" PRIx64 ")",
          nested_b_rax, reg(uc, UC_X86_REG_RAX), vb, va);
    MUST(uc_hook_del(uc, hh));

    /* (l5) uc_close of the engine whose memory the window shows: the other
       still runs right */
    uc_close(other);
    r1 = load_at(uc, DATA + 0x100, &e);
    CHECK(e == UC_ERR_OK && r1 == va, "(l5) after closing the other engine: 0x%" PRIx64 " (want 0x%" PRIx64 ")", r1, va);
    uc_close(uc);

    /* (l7) a writable and executable page: stores go straight to it until
       code is translated from it, and a store after that still reaches the
       code (the page was opened by stores, then written code, then run) */
    uc = open_engine();
    uint64_t fn = RWXD + 0x40100;
    MUST(run(uc, CODE, STORE_LOOP, STORE_END, RWXD, 100000));
    MUST(run(uc, CODE, WRITE_CODE, WRITE_CODE_END, fn, 0));
    e = run(uc, CODE, SMC_CALL, SMC_CALL_END, fn, 0);
    uint64_t first = reg(uc, UC_X86_REG_RBX), second = reg(uc, UC_X86_REG_RAX);
    MUST(run(uc, CODE, WRITE_CODE, WRITE_CODE_END, fn, 0));
    e2 = run(uc, CODE, SMC_CALL, SMC_CALL_END, fn, 0);
    CHECK(e == UC_ERR_OK && e2 == UC_ERR_OK && first == 1 && second == 2 && reg(uc, UC_X86_REG_RBX) == 1 && reg(uc, UC_X86_REG_RAX) == 2,
          "(l7) code stored by the guest into an RWX page it wrote before, run, patched, run: eax %" PRIu64 " -> %" PRIu64 ", rewritten: %" PRIu64 " -> %" PRIu64 " (want 1 -> 2 twice)",
          first, second, reg(uc, UC_X86_REG_RBX), reg(uc, UC_X86_REG_RAX));
    uc_close(uc);

    /* (l8) window slots: one engine, two address spaces that differ in one
       region (a fork's parent and child), each kept in its own slot. The
       switch back to a slot that still shows its space remaps nothing and
       reads and writes that space's memory; a slot refreshed over the
       region that differs does too. */
    typedef uc_err (*slots_fn)(uc_engine *, int *);
    typedef uc_err (*select_fn)(uc_engine *, int, int *);
    typedef uc_err (*range_fn)(uc_engine *, uint64_t, uint64_t);
    typedef uc_err (*settle_fn)(uc_engine *);
    slots_fn nslots = (slots_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_window_slots");
    select_fn sel = (select_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_window_select");
    range_fn refresh = (range_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_window_refresh");
    settle_fn settle = (settle_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_window_settle");
    rebase_fn rebase = (rebase_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_mem_rebase");
    int n = 0;
    if (nslots == NULL || sel == NULL || refresh == NULL || settle == NULL || rebase == NULL ||
        nslots(uc = open_engine(), &n) != UC_ERR_OK || n < 2) {
        printf("skip (l8) window slots: not in this library (or one slot)\n");
    } else {
        void *pa = shared(0x1000), *pb = shared(0x1000);
        uint64_t wa = 0xa1a1, wb = 0xb2b2;
        int k0 = -1, k1 = -1, k2 = -1, k3 = -1;
        map(uc, REBASE, 0x1000, UC_PROT_READ | UC_PROT_WRITE);
        MUST(rebase(uc, REBASE, 0x1000, pa));
        MUST(sel(uc, 0, &k0));          /* space A into slot 0 (new: rebuilt) */
        MUST(settle(uc));
        memcpy(pa, &wa, 8);
        r1 = load_at(uc, REBASE, &e);
        MUST(sel(uc, 1, &k1));          /* space B into slot 1 (new) */
        MUST(rebase(uc, REBASE, 0x1000, pb));
        MUST(settle(uc));
        memcpy(pb, &wb, 8);
        r2 = load_at(uc, REBASE, &e2);
        MUST(run(uc, CODE, ONE_STORE, ONE_STORE_END, REBASE + 8, 0));
        MUST(sel(uc, 0, &k2));          /* back to A: slot 0 still shows it */
        MUST(rebase(uc, REBASE, 0x1000, pa));
        MUST(settle(uc));
        r3 = load_at(uc, REBASE, &e2);
        MUST(run(uc, CODE, ONE_STORE, ONE_STORE_END, REBASE + 16, 0));
        uint64_t b8, a8, a16, b16;
        memcpy(&b8, (uint8_t *)pb + 8, 8);
        memcpy(&a8, (uint8_t *)pa + 8, 8);
        memcpy(&a16, (uint8_t *)pa + 16, 8);
        memcpy(&b16, (uint8_t *)pb + 16, 8);
        /* slot 1 kept, but it is refreshed for C (A's memory in that region) */
        MUST(sel(uc, 1, &k3));
        MUST(refresh(uc, REBASE, 0x1000));
        MUST(settle(uc));
        uint64_t r4 = load_at(uc, REBASE, &e2);
        CHECK(e == UC_ERR_OK && e2 == UC_ERR_OK && r1 == wa && r2 == wb && r3 == wa && r4 == wa &&
                  b8 == 0x1234 && a8 == 0 && a16 == 0x1234 && b16 == 0 && k0 == 0 && k1 == 0 && k2 == 1 && k3 == 1,
              "(l8) slots: A 0x%" PRIx64 ", B 0x%" PRIx64 ", A again 0x%" PRIx64 ", refreshed 0x%" PRIx64 " (want 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 "); stores: B+8 0x%" PRIx64 " A+8 0x%" PRIx64 " A+16 0x%" PRIx64 " B+16 0x%" PRIx64 "; kept %d %d %d %d (want 0 0 1 1)",
              r1, r2, r3, r4, wa, wb, wa, wa, b8, a8, a16, b16, k0, k1, k2, k3);
    }
    uc_close(uc);

    /* (l6) a host fault that is not the engine's still kills (the handler
       passes it on to the default action) */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        volatile int *null = (volatile int *)(uintptr_t)strtoul("8", NULL, 0);
        *null = 1;
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
          "(l6) a NULL store in the host program after direct mode: %s %d (want signal %d)",
          WIFSIGNALED(status) ? "signal" : "exit", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), SIGSEGV);
}

static void tcg_buffer_test(void)
{
    unsigned major = 0, minor = 0;
    uc_version(&major, &minor);
    if (major < 2 || (major == 2 && minor < 1)) {
        printf("skip (e) TCG buffer size: library is %u.%u\n", major, minor);
        return;
    }
    uc_engine *uc;
    MUST(uc_open(UC_ARCH_X86, UC_MODE_64, &uc));
    uint32_t want = 32u << 20, got = 0;
    uc_err e = uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TCG_BUFFER_SIZE, 1), want);
    if (direct) {
        MUST(direct_on(uc, DIRECT_BITS));
    }
    map(uc, CODE, 0x10000, UC_PROT_READ | UC_PROT_EXEC);
    map(uc, DATA, 0x100000, UC_PROT_READ | UC_PROT_WRITE);
    MUST(uc_mem_write(uc, CODE, blob, sizeof blob));
    MUST(run(uc, CODE, STORE_LOOP, STORE_END, DATA, 1000));
    uc_err e2 = uc_ctl(uc, UC_CTL_READ(UC_CTL_TCG_BUFFER_SIZE, 1), &got);
    CHECK(e == UC_ERR_OK && e2 == UC_ERR_OK && got == want,
          "(e) uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TCG_BUFFER_SIZE, 1) = 0x%x, "
          "(uint32_t)%u) then read back (UC_CTL_READ = 0x%x): %u",
          (unsigned)UC_CTL_WRITE(UC_CTL_TCG_BUFFER_SIZE, 1), want,
          (unsigned)UC_CTL_READ(UC_CTL_TCG_BUFFER_SIZE, 1), got);
    uc_close(uc);
}

/*
 * (m) arm64: an exclusive load (ldxr, which must be aligned) from an aligned
 * and a misaligned address; direct mode must end as the TLB path does.
 */
static void arm64_exclusive(int use_direct, uc_err *e_ok, uint64_t *v_ok,
                            uc_err *e_bad, uint64_t *x0_bad)
{
    static const uint32_t ldxr = 0xc85f7c20; /* ldxr x0, [x1] */
    uc_engine *uc;
    MUST(uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc));
    if (use_direct) {
        MUST(direct_on(uc, DIRECT_BITS));
        MUST(uc_mem_map_ptr(uc, CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC, shared(0x1000)));
        MUST(uc_mem_map_ptr(uc, DATA, 0x1000, UC_PROT_READ | UC_PROT_WRITE, shared(0x1000)));
    } else {
        MUST(uc_mem_map(uc, CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC));
        MUST(uc_mem_map(uc, DATA, 0x1000, UC_PROT_READ | UC_PROT_WRITE));
    }
    MUST(uc_mem_write(uc, CODE, &ldxr, 4));
    uint64_t val = 0x1122334455667788ULL, x1 = DATA + 0x40, x0 = 0;
    MUST(uc_mem_write(uc, DATA + 0x40, &val, 8));
    MUST(uc_reg_write(uc, UC_ARM64_REG_X1, &x1));
    *e_ok = uc_emu_start(uc, CODE, CODE + 4, 0, 0);
    MUST(uc_reg_read(uc, UC_ARM64_REG_X0, v_ok));
    x1 = DATA + 0x44;
    x0 = 0x5a5a;
    MUST(uc_reg_write(uc, UC_ARM64_REG_X1, &x1));
    MUST(uc_reg_write(uc, UC_ARM64_REG_X0, &x0));
    *e_bad = uc_emu_start(uc, CODE, CODE + 4, 0, 0);
    MUST(uc_reg_read(uc, UC_ARM64_REG_X0, x0_bad));
    uc_close(uc);
}

/* (m2): the same misaligned ldxr with an interrupt hook: a data abort whose ESR_EL1 says alignment (0x21) and FAR_EL1 the address */
static uint64_t abort_esr, abort_far;
static int abort_intno = -1;
static void on_arm64_intr(uc_engine *uc, uint32_t intno, void *user)
{
    (void)user;
    abort_intno = (int)intno;
    MUST(uc_reg_read(uc, UC_ARM64_REG_ESR_EL1, &abort_esr));
    MUST(uc_reg_read(uc, UC_ARM64_REG_FAR_EL1, &abort_far));
    uc_emu_stop(uc);
}

static void arm64_abort_syndrome(void)
{
    static const uint32_t ldxr = 0xc85f7c20; /* ldxr x0, [x1] */
    uc_engine *uc;
    uc_hook h;
    MUST(uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc));
    MUST(uc_mem_map(uc, CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC));
    MUST(uc_mem_map(uc, DATA, 0x1000, UC_PROT_READ | UC_PROT_WRITE));
    MUST(uc_mem_write(uc, CODE, &ldxr, 4));
    MUST(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_arm64_intr, NULL, 1, 0));
    uint64_t x1 = DATA + 0x44;
    MUST(uc_reg_write(uc, UC_ARM64_REG_X1, &x1));
    uc_emu_start(uc, CODE, CODE + 4, 0, 0);
    CHECK(abort_intno == 4 && (abort_esr & 0x3f) == 0x21 && (abort_esr >> 26) != 0 && abort_far == DATA + 0x44,
          "(m2) arm64 misaligned ldxr through the interrupt hook: intno %d (want 4), ESR_EL1 0x%" PRIx64 " (want fault status 0x21), FAR_EL1 0x%" PRIx64 " (want 0x%x)",
          abort_intno, abort_esr, abort_far, (unsigned)(DATA + 0x44));
    uc_close(uc);
}

static void arm64_tests(void)
{
    uc_err e1, e2, d1, d2;
    uint64_t v1, b1, v2, b2;
    arm64_exclusive(0, &e1, &v1, &e2, &b1);
    arm64_exclusive(1, &d1, &v2, &d2, &b2);
    CHECK(e1 == UC_ERR_OK && d1 == UC_ERR_OK && v1 == 0x1122334455667788ULL && v2 == v1 && e2 == d2 && e2 != UC_ERR_OK && b1 == 0x5a5a && b2 == 0x5a5a,
          "(m) arm64 ldxr: aligned 0x%" PRIx64 " / 0x%" PRIx64 " (TLB / direct); misaligned: %s / %s, x0 kept: %s",
          v1, v2, uc_strerror(e2), uc_strerror(d2), b1 == 0x5a5a && b2 == 0x5a5a ? "yes" : "no");
    arm64_abort_syndrome();
}

/* every check, in the current mode */
/* (n): see fp_tests */
static const uint8_t fp_blob[] = {
    /* FP_FLAGS: movsd (%rdi),%xmm0; divsd 8(%rdi),%xmm0; stmxcsr 16(%rdi);
     * fld1; fdivl 8(%rdi); fnstsw 20(%rdi); fstp %st(0) */
    0xf2, 0x0f, 0x10, 0x07, 0xf2, 0x0f, 0x5e, 0x47, 0x08, 0x0f, 0xae, 0x5f, 0x10,
    0xd9, 0xe8, 0xdc, 0x77, 0x08, 0xdd, 0x7f, 0x14, 0xdd, 0xd8,
    /* FP_SSE_TRAP: ldmxcsr 24(%rdi); movsd (%rdi),%xmm1;
     * FP_SSE_FAULT: divsd 8(%rdi),%xmm1; nop */
    0x0f, 0xae, 0x57, 0x18, 0xf2, 0x0f, 0x10, 0x0f, 0xf2, 0x0f, 0x5e, 0x4f, 0x08, 0x90,
    /* FP_X87_TRAP: fldcw 28(%rdi); fld1; fdivl 8(%rdi);
     * FP_X87_FAULT: fwait; fstp %st(0) */
    0xd9, 0x6f, 0x1c, 0xd9, 0xe8, 0xdc, 0x77, 0x08, 0x9b, 0xdd, 0xd8,
};
#define FP_FLAGS 0x00
#define FP_FLAGS_END 0x17
#define FP_SSE_TRAP 0x17
#define FP_SSE_FAULT 0x1f
#define FP_SSE_TRAP_END 0x25
#define FP_X87_TRAP 0x25
#define FP_X87_FAULT 0x2d
#define FP_X87_TRAP_END 0x30
#define FP_AT (CODE + 0x8000)
#define FP_DATA (DATA + 0x1000)

static int intr_no;
static uint64_t intr_rip;
static void on_intr(uc_engine *uc, uint32_t intno, void *user)
{
    (void)user;
    intr_no = (int)intno;
    intr_rip = reg(uc, UC_X86_REG_RIP);
    uc_emu_stop(uc);
}

static void fp_tests(void)
{
    uc_engine *uc = open_engine();
    struct {
        double one, zero;
        uint32_t mxcsr;
        uint16_t fsw, pad;
        uint32_t mxcsr_in;
        uint16_t fcw_in;
    } d = {1.0, 0.0, 0, 0, 0, 0x1f80 & ~0x200, 0x37f & ~0x4};
    MUST(uc_mem_write(uc, FP_AT, fp_blob, sizeof fp_blob));
    MUST(uc_mem_write(uc, FP_DATA, &d, sizeof d));
    uint16_t fcw = 0x37f, fsw = 0;
    uint32_t mxcsr = 0x1f80;
    MUST(uc_reg_write(uc, UC_X86_REG_FPCW, &fcw));
    MUST(uc_reg_write(uc, UC_X86_REG_FPSW, &fsw));
    MUST(uc_reg_write(uc, UC_X86_REG_MXCSR, &mxcsr));

    uc_err e = run(uc, FP_AT, FP_FLAGS, FP_FLAGS_END, FP_DATA, 0);
    MUST(uc_mem_read(uc, FP_DATA, &d, sizeof d));
    uint32_t mx = 0;
    uint16_t sw = 0;
    MUST(uc_reg_read(uc, UC_X86_REG_MXCSR, &mx));
    MUST(uc_reg_read(uc, UC_X86_REG_FPSW, &sw));
    CHECK(e == UC_ERR_OK && d.mxcsr == 0x1f84 && mx == 0x1f84 && (d.fsw & 0xff) == 0x04 && (sw & 0xff) == 0x04,
          "(n1) 1.0/0.0 flags: stmxcsr 0x%x, MXCSR 0x%x (want 0x1f84); fnstsw 0x%x, FPSW 0x%x (want 0x04)",
          d.mxcsr, mx, d.fsw & 0xff, sw & 0xff);

    MUST(uc_reg_write(uc, UC_X86_REG_MXCSR, &mxcsr));
    MUST(uc_reg_write(uc, UC_X86_REG_FPSW, &fsw));
    MUST(uc_reg_read(uc, UC_X86_REG_MXCSR, &mx));
    MUST(uc_reg_read(uc, UC_X86_REG_FPSW, &sw));
    CHECK(mx == 0x1f80 && (sw & 0xff) == 0, "(n2) flags cleared by register writes: MXCSR 0x%x, FPSW 0x%x", mx, sw & 0xff);

    uc_hook h;
    MUST(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, NULL, 1, 0));
    intr_no = -1;
    uint64_t before = 0x1234567890abcdefULL, x1[2] = {before, 0};
    MUST(uc_reg_write(uc, UC_X86_REG_XMM1, x1));
    e = run(uc, FP_AT, FP_SSE_TRAP, FP_SSE_TRAP_END, FP_DATA, 0);
    MUST(uc_reg_read(uc, UC_X86_REG_XMM1, x1));
    MUST(uc_reg_read(uc, UC_X86_REG_MXCSR, &mx));
    CHECK(e == UC_ERR_OK && intr_no == 19 && intr_rip == FP_AT + FP_SSE_FAULT && x1[0] == 0x3ff0000000000000ULL &&
              mx == 0x1d84,
          "(n3) unmasked SSE 1.0/0.0: interrupt %d at +0x%llx (want 19 at +0x%x), xmm1 0x%llx (want 1.0 unchanged), MXCSR 0x%x (want 0x1d84)",
          intr_no, (unsigned long long)(intr_rip - FP_AT), FP_SSE_FAULT, (unsigned long long)x1[0], mx);

    MUST(uc_reg_write(uc, UC_X86_REG_MXCSR, &mxcsr));
    intr_no = -1;
    e = run(uc, FP_AT, FP_X87_TRAP, FP_X87_TRAP_END, FP_DATA, 0);
    MUST(uc_reg_read(uc, UC_X86_REG_FPSW, &sw));
    CHECK(e == UC_ERR_OK && intr_no == 16 && intr_rip == FP_AT + FP_X87_FAULT && (sw & 0xff) == 0x84,
          "(n4) unmasked x87 1.0/0.0: interrupt %d at +0x%llx (want 16 at the fwait, +0x%x), FPSW 0x%x (want 0x84)",
          intr_no, (unsigned long long)(intr_rip - FP_AT), FP_X87_FAULT, sw & 0xff);
    uc_close(uc);
}

/* (n5): movsd (%rdi),%xmm0; addsd 8(%rdi),%xmm0; stmxcsr 0x10(%rdi); ldmxcsr 0x14(%rdi);
 * cvtsd2si 8(%rdi),%rax; stmxcsr 0x18(%rdi); ldmxcsr 0x1c(%rdi); movsd (%rdi),%xmm0;
 * addsd 8(%rdi),%xmm0; stmxcsr 0x20(%rdi) */
static const uint8_t denormal_blob[] = {
    0xf2, 0x0f, 0x10, 0x07, 0xf2, 0x0f, 0x58, 0x47, 0x08, 0x0f, 0xae, 0x5f, 0x10, 0x0f, 0xae, 0x57, 0x14,
    0xf2, 0x48, 0x0f, 0x2d, 0x47, 0x08, 0x0f, 0xae, 0x5f, 0x18, 0x0f, 0xae, 0x57, 0x1c, 0xf2, 0x0f, 0x10,
    0x07, 0xf2, 0x0f, 0x58, 0x47, 0x08, 0x0f, 0xae, 0x5f, 0x20,
};

static void denormal_tests(void)
{
    uc_engine *uc = open_engine();
    struct {
        double one, den;
        uint32_t after_add, fresh, after_cvt, daz, after_daz;
    } d = {1.0, 4.9e-324, 0, 0x1f80, 0, 0x1f80 | 0x40, 0};
    MUST(uc_mem_write(uc, FP_AT, denormal_blob, sizeof denormal_blob));
    MUST(uc_mem_write(uc, FP_DATA, &d, sizeof d));
    uint32_t mxcsr = 0x1f80;
    MUST(uc_reg_write(uc, UC_X86_REG_MXCSR, &mxcsr));
    uc_err e = run(uc, FP_AT, 0, sizeof denormal_blob, FP_DATA, 0);
    MUST(uc_mem_read(uc, FP_DATA, &d, sizeof d));
    CHECK(e == UC_ERR_OK && (d.after_add & 0x3f) == 0x22 && (d.after_cvt & 0x3f) == 0x20 && (d.after_daz & 0x3f) == 0,
          "(n5) denormal inputs: addsd flags 0x%x (want DE|PE 0x22), cvtsd2si 0x%x (want PE 0x20), addsd with DAZ 0x%x (want 0)",
          d.after_add & 0x3f, d.after_cvt & 0x3f, d.after_daz & 0x3f);
    uc_close(uc);
}

/* (n6): fninit; fldl 8(%rdi); fnstsw 0x10(%rdi); fninit; fldcw 0x12(%rdi); fld1;
 * fmull 8(%rdi); fwait */
static const uint8_t x87_denormal_blob[] = {
    0xdb, 0xe3, 0xdd, 0x47, 0x08, 0xdd, 0x7f, 0x10, 0xdb, 0xe3, 0xd9, 0x6f,
    0x12, 0xd9, 0xe8, 0xdc, 0x4f, 0x08, 0x9b,
};
#define X87_DEN_WAIT 0x12

static void x87_denormal_tests(void)
{
    uc_engine *uc = open_engine();
    struct {
        double one, den;
        uint16_t fsw_load, fcw;
    } d = {1.0, 4.9e-324, 0, 0x37f & ~0x2};
    MUST(uc_mem_write(uc, FP_AT, x87_denormal_blob, sizeof x87_denormal_blob));
    MUST(uc_mem_write(uc, FP_DATA, &d, sizeof d));
    uc_hook h;
    MUST(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, NULL, 1, 0));
    intr_no = -1;
    uc_err e = run(uc, FP_AT, 0, sizeof x87_denormal_blob, FP_DATA, 0);
    MUST(uc_mem_read(uc, FP_DATA, &d, sizeof d));
    uint16_t sw = 0;
    uint8_t st0[10] = {0};
    MUST(uc_reg_read(uc, UC_X86_REG_FPSW, &sw));
    MUST(uc_reg_read(uc, UC_X86_REG_ST0, st0));
    uint64_t mant;
    uint16_t se;
    memcpy(&mant, st0, 8);
    memcpy(&se, st0 + 8, 2);
    CHECK(e == UC_ERR_OK && (d.fsw_load & 0xff) == 0x02 && intr_no == 16 && intr_rip == FP_AT + X87_DEN_WAIT &&
              (sw & 0xff) == 0x82 && mant == 0x8000000000000000ULL && se == 0x3fff,
          "(n6) x87 denormal: fldl flags 0x%x (want DE 0x02); unmasked fmull: interrupt %d at +0x%llx (want 16 at +0x%x), "
          "FPSW 0x%x (want 0x82), ST0 0x%04x:%016llx (want 1.0 unchanged)",
          d.fsw_load & 0xff, intr_no, (unsigned long long)(intr_rip - FP_AT), X87_DEN_WAIT, sw & 0xff, se,
          (unsigned long long)mant);
    uc_close(uc);
}

/* (o): fldl (%rdi); fstp %st(0); fnstenv 0x40(%rdi); fxsave64 0x100(%rdi);
 * fldcw 0x10(%rdi); fld1; fdivl 8(%rdi); fxsave64 0x300(%rdi); fninit */
static const uint8_t x87ptr_blob[] = {
    0xdd, 0x07, 0xdd, 0xd8, 0xd9, 0x77, 0x40, 0x48, 0x0f, 0xae, 0x87, 0x00, 0x01, 0x00, 0x00,
    0xd9, 0x6f, 0x10, 0xd9, 0xe8, 0xdc, 0x77, 0x08, 0x48, 0x0f, 0xae, 0x87, 0x00, 0x03, 0x00, 0x00,
    0xdb, 0xe3,
};

static void x87ptr_tests(void)
{
    uc_engine *uc = open_engine();
    uint8_t d[0x500];
    memset(d, 0xaa, sizeof d);
    double v[2] = {1.5, 0.0};
    uint16_t cw = 0x37f & ~0x4; /* divide by zero unmasked */
    memcpy(d, v, sizeof v);
    memcpy(d + 0x10, &cw, 2);
    MUST(uc_mem_write(uc, FP_AT, x87ptr_blob, sizeof x87ptr_blob));
    MUST(uc_mem_write(uc, FP_DATA, d, sizeof d));
    uint16_t fcw = 0x37f, fsw = 0;
    MUST(uc_reg_write(uc, UC_X86_REG_FPCW, &fcw));
    MUST(uc_reg_write(uc, UC_X86_REG_FPSW, &fsw));
    uc_err e = run(uc, FP_AT, 0, sizeof x87ptr_blob, FP_DATA, 0);
    MUST(uc_mem_read(uc, FP_DATA, d, sizeof d));
    uint32_t env[7];
    memcpy(env, d + 0x40, sizeof env);
    CHECK(e == UC_ERR_OK && env[3] == (uint32_t)(FP_AT + 2) && (env[4] >> 16 & 0x7ff) == 0x5d8 && env[5] == (uint32_t)FP_DATA,
          "(o1) fnstenv after fldl; fstp: FIP 0x%x (want 0x%x), FOP 0x%x (want 0x5d8), FDP 0x%x (want 0x%x)",
          env[3], (unsigned)(FP_AT + 2), env[4] >> 16 & 0x7ff, env[5], (unsigned)FP_DATA);
    uint16_t fop;
    uint64_t fip, fdp;
    memcpy(&fop, d + 0x106, 2);
    memcpy(&fip, d + 0x108, 8);
    memcpy(&fdp, d + 0x110, 8);
    CHECK(fop == 0 && fip == 0 && fdp == 0, "(o2) fxsave64, no exception pending: FOP 0x%x, FIP 0x%llx, FDP 0x%llx (want zeros)",
          fop, (unsigned long long)fip, (unsigned long long)fdp);
    memcpy(&fop, d + 0x306, 2);
    memcpy(&fip, d + 0x308, 8);
    memcpy(&fdp, d + 0x310, 8);
    CHECK(fop == 0x477 && fip == FP_AT + 0x14 && fdp == FP_DATA + 8,
          "(o3) fxsave64, a divide by zero pending: FOP 0x%x (want 0x477), FIP 0x%llx (want 0x%llx), FDP 0x%llx (want 0x%llx)",
          fop, (unsigned long long)fip, (unsigned long long)(FP_AT + 0x14), (unsigned long long)fdp,
          (unsigned long long)(FP_DATA + 8));
    uc_close(uc);
}

/* (p): one privileged instruction each, then a nop; rdtsc last, which runs */
static const uint8_t priv_blob[] = {
    0xfa, 0x90,                   /* 0: cli */
    0xe4, 0x80, 0x90,             /* 2: in $0x80,%al */
    0x0f, 0x20, 0xc0, 0x90,       /* 5: mov %cr0,%rax */
    0xf4, 0x90,                   /* 9: hlt */
    0x0f, 0x30, 0x90,             /* 11: wrmsr */
    0x0f, 0x33, 0x90,             /* 14: rdpmc */
    0x0f, 0x31, 0x90,             /* 17: rdtsc */
};

static void priv_tests(void)
{
    static const struct { const char *name; int at, end; } insns[] = {
        {"cli", 0, 2}, {"in", 2, 5}, {"mov from %cr0", 5, 9}, {"hlt", 9, 11}, {"wrmsr", 11, 14}, {"rdpmc", 14, 17},
    };
    uc_engine *uc = open_engine();
    uc_hook h;
    MUST(uc_mem_write(uc, FP_AT, priv_blob, sizeof priv_blob));
    MUST(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, NULL, 1, 0));
    for (unsigned i = 0; i < sizeof insns / sizeof *insns; i++) {
        intr_no = -1;
        uc_err e = run(uc, FP_AT, insns[i].at, insns[i].end, FP_DATA, 0);
        CHECK(e == UC_ERR_OK && intr_no == 13 && intr_rip == FP_AT + insns[i].at,
              "(p) %s at CPL 3: interrupt %d at +0x%llx (want 13 at +0x%x)", insns[i].name, intr_no,
              (unsigned long long)(intr_rip - FP_AT), insns[i].at);
    }
    intr_no = -1;
    uc_err e = run(uc, FP_AT, 17, 20, FP_DATA, 0);
    CHECK(e == UC_ERR_OK && intr_no == -1 && reg(uc, UC_X86_REG_RIP) == FP_AT + 20,
          "(p) rdtsc at CPL 3 runs: interrupt %d, rip +0x%llx (want none, +0x14)", intr_no,
          (unsigned long long)(reg(uc, UC_X86_REG_RIP) - FP_AT));
    /* CR4.TSD makes rdtsc fault; MSR_MISC_FEATURES_ENABLES bit 0 makes cpuid fault */
    static const uint8_t cpuid_blob[] = {0x0f, 0xa2, 0x90};
    MUST(uc_mem_write(uc, FP_AT + 0x100, cpuid_blob, sizeof cpuid_blob));
    uint64_t cr4 = reg(uc, UC_X86_REG_CR4) | 4;
    MUST(uc_reg_write(uc, UC_X86_REG_CR4, &cr4));
    intr_no = -1;
    e = run(uc, FP_AT, 17, 20, FP_DATA, 0);
    int tsd = intr_no;
    uc_x86_msr msr = {0x140, 1};
    MUST(uc_reg_write(uc, UC_X86_REG_MSR, &msr));
    msr.value = 0;
    MUST(uc_reg_read(uc, UC_X86_REG_MSR, &msr));
    intr_no = -1;
    e = run(uc, FP_AT, 0x100, 0x103, FP_DATA, 0);
    int faulting = intr_no;
    uint64_t back = msr.value;
    msr.value = 0;
    MUST(uc_reg_write(uc, UC_X86_REG_MSR, &msr));
    intr_no = -1;
    e = run(uc, FP_AT, 0x100, 0x103, FP_DATA, 0);
    CHECK(tsd == 13 && back == 1 && faulting == 13 && intr_no == -1,
          "(p) rdtsc with CR4.TSD: interrupt %d (want 13); MSR 0x140 reads %llu after writing 1; cpuid with it: interrupt %d (want 13), without: %d (want none)",
          tsd, (unsigned long long)back, faulting, intr_no);
    uc_close(uc);
}

/* (q): a spin-wait hint, then two nops; the run ends after the hint with uc_elfrun_spin_yield on */
typedef uc_err (*spin_yield_fn)(uc_engine *, bool);
static void spin_tests(void)
{
    spin_yield_fn spin_yield = (spin_yield_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_spin_yield");
    if (spin_yield == NULL) {
        printf("skip (q) uc_elfrun_spin_yield: not in this library\n");
        return;
    }
    static const uint8_t x86[] = {0xf3, 0x90, 0x90, 0x90}; /* pause; nop; nop */
    uc_engine *uc = open_engine();
    MUST(uc_mem_write(uc, FP_AT, x86, sizeof x86));
    uint64_t at[2];
    for (int on = 0; on < 2; on++) {
        MUST(spin_yield(uc, on));
        run(uc, FP_AT, 0, 4, FP_DATA, 0);
        at[on] = reg(uc, UC_X86_REG_RIP) - FP_AT;
    }
    CHECK(at[0] == 4 && at[1] == 2, "(q) x86 pause: the run ends at +%llu off (want +4), +%llu on (want +2)",
          (unsigned long long)at[0], (unsigned long long)at[1]);
    uc_close(uc);
    static const uint32_t a64[][3] = {
        {0xd503203f, 0xd503201f, 0xd503201f}, /* yield; nop; nop */
        {0xd503205f, 0xd503201f, 0xd503201f}, /* wfe; nop; nop */
    };
    for (int k = 0; k < 2; k++) {
        MUST(uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc));
        MUST(uc_mem_map(uc, CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC));
        MUST(uc_mem_write(uc, CODE, a64[k], sizeof a64[k]));
        for (int on = 0; on < 2; on++) {
            MUST(spin_yield(uc, on));
            uc_emu_start(uc, CODE, CODE + 12, 0, 0);
            at[on] = 0;
            MUST(uc_reg_read(uc, UC_ARM64_REG_PC, &at[on]));
            at[on] -= CODE;
        }
        CHECK(at[0] == 12 && at[1] == 4, "(q) arm64 %s: the run ends at +%llu off (want +12), +%llu on (want +4)",
              k ? "wfe" : "yield", (unsigned long long)at[0], (unsigned long long)at[1]);
        uc_close(uc);
    }
}

static void all_checks(uint64_t iters)
{
    bench(iters);
    smc_tests();
    hook_tests();
    fault_tests();
    precise_tests();
    rep_tests();
    rebase_tests();
    chain_tests();
    reg_ptr_tests();
    fp_tests();
    denormal_tests();
    x87_denormal_tests();
    x87ptr_tests();
    priv_tests();
    tcg_buffer_test();
}

int main(int argc, char **argv)
{
    uint64_t iters = argc > 1 ? strtoull(argv[1], NULL, 0) : 5000000;
    unsigned major = 0, minor = 0;
    unsigned v = uc_version(&major, &minor);
    printf("libunicorn %u.%u (0x%08x)\n", major, minor, v);
    all_checks(iters);
    direct_on = (direct_fn)dlsym(RTLD_DEFAULT, "uc_elfrun_direct");
    if (direct_on == NULL) {
        printf("skip (l) uc_elfrun_direct: not in this library\n");
    } else {
        printf("-- again in direct mode (uc_elfrun_direct)\n");
        direct = 1;
        all_checks(iters);
        direct_tests();
        arm64_tests();
        spin_tests();
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
