// /proc/cpuinfo as the guest's CPU is: the engine's, not the host's. An
// x86_64 guest sees the host's processors (their speed, caches, topology)
// with the identity and flags of the CPU the engine emulates, read from its
// CPUID, so that a program choosing code by the flags (avx2...) only picks
// instructions the engine executes. An arm64 guest sees arm64 processors in
// the format of arch/arm64/kernel/cpuinfo.c, with the features of AT_HWCAP.
import { readFileSync } from 'node:fs';
import type { Task } from '../proc/task.js';
import { x86Cpuid } from '../cpu/x86_64.js';
import { A72_CNTFRQ, A72_MIDR } from '../cpu/arm64.js';

/** /proc/cpuinfo names of x86 feature bits, by CPUID register (Linux's cpufeatures.h; hidden ones left out) */
const X86_FLAGS: ReadonlyArray<{ leaf: number; subleaf: number; reg: number; names: Record<number, string> }> = [
  {
    leaf: 1, subleaf: 0, reg: 3,
    names: { 0: 'fpu', 1: 'vme', 2: 'de', 3: 'pse', 4: 'tsc', 5: 'msr', 6: 'pae', 7: 'mce', 8: 'cx8', 9: 'apic', 11: 'sep', 12: 'mtrr', 13: 'pge', 14: 'mca', 15: 'cmov', 16: 'pat', 17: 'pse36', 18: 'pn', 19: 'clflush', 21: 'dts', 22: 'acpi', 23: 'mmx', 24: 'fxsr', 25: 'sse', 26: 'sse2', 27: 'ss', 28: 'ht', 29: 'tm', 30: 'ia64', 31: 'pbe' },
  },
  {
    leaf: 0x80000001, subleaf: 0, reg: 3,
    names: { 11: 'syscall', 19: 'mp', 20: 'nx', 22: 'mmxext', 25: 'fxsr_opt', 26: 'pdpe1gb', 27: 'rdtscp', 29: 'lm', 30: '3dnowext', 31: '3dnow' },
  },
  {
    leaf: 1, subleaf: 0, reg: 2,
    names: { 0: 'pni', 1: 'pclmulqdq', 2: 'dtes64', 3: 'monitor', 4: 'ds_cpl', 5: 'vmx', 6: 'smx', 7: 'est', 8: 'tm2', 9: 'ssse3', 10: 'cid', 11: 'sdbg', 12: 'fma', 13: 'cx16', 14: 'xtpr', 15: 'pdcm', 17: 'pcid', 18: 'dca', 19: 'sse4_1', 20: 'sse4_2', 21: 'x2apic', 22: 'movbe', 23: 'popcnt', 24: 'tsc_deadline_timer', 25: 'aes', 26: 'xsave', 28: 'avx', 29: 'f16c', 30: 'rdrand', 31: 'hypervisor' },
  },
  {
    leaf: 0x80000001, subleaf: 0, reg: 2,
    names: { 0: 'lahf_lm', 1: 'cmp_legacy', 2: 'svm', 3: 'extapic', 4: 'cr8_legacy', 5: 'abm', 6: 'sse4a', 7: 'misalignsse', 8: '3dnowprefetch', 9: 'osvw', 10: 'ibs', 11: 'xop', 12: 'skinit', 13: 'wdt', 15: 'lwp', 16: 'fma4', 17: 'tce', 19: 'nodeid_msr', 21: 'tbm', 22: 'topoext', 23: 'perfctr_core', 24: 'perfctr_nb', 26: 'bpext', 27: 'ptsc', 28: 'perfctr_llc', 29: 'mwaitx' },
  },
  {
    leaf: 7, subleaf: 0, reg: 1,
    names: { 0: 'fsgsbase', 1: 'tsc_adjust', 2: 'sgx', 3: 'bmi1', 4: 'hle', 5: 'avx2', 6: 'fdp_excptn_only', 7: 'smep', 8: 'bmi2', 9: 'erms', 10: 'invpcid', 11: 'rtm', 12: 'cqm', 14: 'mpx', 15: 'rdt_a', 16: 'avx512f', 17: 'avx512dq', 18: 'rdseed', 19: 'adx', 20: 'smap', 21: 'avx512ifma', 23: 'clflushopt', 24: 'clwb', 25: 'intel_pt', 26: 'avx512pf', 27: 'avx512er', 28: 'avx512cd', 29: 'sha_ni', 30: 'avx512bw', 31: 'avx512vl' },
  },
  { leaf: 0xd, subleaf: 1, reg: 0, names: { 0: 'xsaveopt', 1: 'xsavec', 2: 'xgetbv1', 3: 'xsaves' } },
  {
    leaf: 7, subleaf: 0, reg: 2,
    names: { 1: 'avx512vbmi', 2: 'umip', 3: 'pku', 4: 'ospke', 5: 'waitpkg', 6: 'avx512_vbmi2', 8: 'gfni', 9: 'vaes', 10: 'vpclmulqdq', 11: 'avx512_vnni', 12: 'avx512_bitalg', 13: 'tme', 14: 'avx512_vpopcntdq', 16: 'la57', 22: 'rdpid', 24: 'bus_lock_detect', 25: 'cldemote', 27: 'movdiri', 28: 'movdir64b', 29: 'enqcmd', 30: 'sgx_lc' },
  },
  { leaf: 7, subleaf: 0, reg: 3, names: { 2: 'avx512_4vnniw', 3: 'avx512_4fmaps', 4: 'fsrm', 8: 'avx512_vp2intersect', 10: 'md_clear', 14: 'serialize', 16: 'tsxldtrk', 18: 'pconfig', 19: 'arch_lbr', 22: 'amx_bf16', 23: 'avx512_fp16', 24: 'amx_tile', 25: 'amx_int8', 28: 'flush_l1d', 29: 'arch_capabilities' } },
];

/** arm64 HWCAP bits' names, in bit order (arch/arm64/kernel/cpuinfo.c) */
const A64_HWCAPS = ['fp', 'asimd', 'evtstrm', 'aes', 'pmull', 'sha1', 'sha2', 'crc32', 'atomics', 'fphp', 'asimdhp', 'cpuid', 'asimdrdm', 'jscvt', 'fcma', 'lrcpc', 'dcpop', 'sha3', 'sm3', 'sm4', 'asimddp', 'sha512', 'sve', 'asimdfhm', 'dit', 'uscat', 'ilrcpc', 'flagm', 'ssbs', 'sb', 'paca', 'pacg'];

/** the host's /proc/cpuinfo, one block (a map of its lines, in order) per processor */
function hostBlocks(): Array<Array<[string, string]>> {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'latin1');
  } catch {
    return [];
  }
  return text
    .split(/\n\n+/)
    .filter((b) => b.trim() !== '')
    .map((b) => b.split('\n').map((l): [string, string] => {
      const i = l.indexOf(':');
      return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1).trimStart()];
    }));
}

function ascii(...words: number[]): string {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
  return b.toString('latin1').replace(/\0+$/, '').trim();
}

function x86Flags(): string {
  const out: string[] = [];
  for (const f of X86_FLAGS) {
    const v = x86Cpuid(f.leaf, f.subleaf)[f.reg] >>> 0;
    for (let bit = 0; bit < 32; bit++) if (v & (2 ** bit) && f.names[bit] !== undefined) out.push(f.names[bit]);
  }
  return out.join(' ');
}

function x86Cpuinfo(): string {
  const [maxLeaf, vb, vc, vd] = x86Cpuid(0);
  const eax = x86Cpuid(1)[0];
  const base = (eax >>> 8) & 0xf;
  const family = base === 0xf ? base + ((eax >>> 20) & 0xff) : base;
  const model = ((eax >>> 4) & 0xf) | (base === 6 || base === 0xf ? ((eax >>> 16) & 0xf) << 4 : 0);
  const brand = ascii(...[0x80000002, 0x80000003, 0x80000004].flatMap((l) => x86Cpuid(l)));
  const sizes = x86Cpuid(0x80000008)[0];
  const ours: Record<string, string> = {
    vendor_id: ascii(vb, vd, vc),
    'cpu family': String(family),
    model: String(model),
    'model name': brand,
    stepping: String(eax & 0xf),
    'cpuid level': String(maxLeaf),
    flags: x86Flags(),
    'address sizes': `${sizes & 0xff} bits physical, ${(sizes >>> 8) & 0xff} bits virtual`,
  };
  return hostBlocks()
    .map((lines) =>
      lines
        .filter(([k]) => k.trim() !== 'vmx flags') // no VMX in the engine
        .map(([k, v]) => {
          const key = k.trim();
          const val = key in ours ? ours[key] : v;
          return `${k}:${val === '' ? '' : ` ${val}`}`;
        })
        .join('\n'),
    )
    .map((b) => `${b}\n\n`)
    .join('');
}

function arm64Cpuinfo(hwcap: number): string {
  const n = Math.max(1, hostBlocks().filter((b) => b.some(([k]) => k.trim() === 'processor')).length);
  const features = A64_HWCAPS.filter((_, bit) => hwcap & (2 ** bit)).join(' ');
  // BogoMIPS from the timer: loops_per_jiffy = rate / HZ, shown as lpj / (500000 / HZ)
  const bogo = (A72_CNTFRQ / 500000).toFixed(2);
  let s = '';
  for (let i = 0; i < n; i++) {
    s += `processor\t: ${i}\nBogoMIPS\t: ${bogo}\nFeatures\t: ${features}\n`;
    s += `CPU implementer\t: 0x${(A72_MIDR >>> 24).toString(16).padStart(2, '0')}\nCPU architecture: 8\n`;
    s += `CPU variant\t: 0x${((A72_MIDR >>> 20) & 0xf).toString(16)}\nCPU part\t: 0x${((A72_MIDR >>> 4) & 0xfff).toString(16).padStart(3, '0')}\n`;
    s += `CPU revision\t: ${A72_MIDR & 0xf}\n\n`;
  }
  return s;
}

/** The guest's /proc/cpuinfo. */
export function cpuinfo(t: Task): Buffer {
  return Buffer.from(t.arch.name === 'x86_64' ? x86Cpuinfo() : arm64Cpuinfo(t.arch.hwcap()), 'latin1');
}
