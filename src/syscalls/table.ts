// THE TABLE: per arch, syscall number -> name -> handler + status (gVisor's
// linux64.go, declaratively). Handlers are shared between arches by name; a
// name an arch does not have (open, fork... on arm64) is simply not in its table.
import type { ArchName } from '../cpu/arch.js';
import { ARM64_SYSCALLS, X86_64_SYSCALLS } from '../abi/numbers.js';
import { E } from '../abi/errno.js';
import type { SyscallEntry, SyscallTable } from './dispatch.js';
import type { Def } from './handlers/util.js';
import { fsDefs } from './handlers/fs.js';
import { mmDefs } from './handlers/mm.js';
import { procDefs } from './handlers/proc.js';
import { timeDefs } from './handlers/time.js';
import { signalDefs } from './handlers/signal.js';
import { processDefs } from './handlers/process.js';
import { epollDefs, pollDefs } from './handlers/poll.js';
import { pathDefs, xattrDefs } from './handlers/paths.js';
import { netDefs, pairDefs } from './handlers/net.js';

export const DEFS: Record<string, Def> = { ...fsDefs, ...mmDefs, ...procDefs, ...timeDefs, ...signalDefs, ...processDefs, ...pollDefs, ...pathDefs, ...xattrDefs, ...netDefs, ...pairDefs, ...epollDefs };

/**
 * Probed syscalls: a libc tries them and falls back when the kernel answers
 * ENOSYS, so ENOSYS is a correct (if older-kernel) answer. Each says who probes it.
 */
export const PROBES: Record<string, string> = {
  // glibc >= 2.35 registers restartable sequences at start-up and carries on without them.
  rseq: 'glibc >= 2.35 registers rseq at start-up and runs without it on ENOSYS',
  // glibc >= 2.34 tries clone3 (pthread_create, posix_spawn) and falls back to clone on ENOSYS.
  clone3: 'glibc >= 2.34 tries clone3 first and falls back to clone on ENOSYS',
};

function build(arch: ArchName, names: Readonly<Record<number, string>>): SyscallTable {
  const byNr: Array<SyscallEntry | undefined> = [];
  const entries: SyscallEntry[] = [];
  for (const [nrStr, name] of Object.entries(names)) {
    const nr = Number(nrStr);
    const def = DEFS[name];
    let entry: SyscallEntry;
    if (def) entry = { nr, name, status: def.status, note: def.note ?? '', handler: def.handler };
    else if (PROBES[name]) entry = { nr, name, status: 'probe', note: PROBES[name], handler: () => -E.ENOSYS };
    else entry = { nr, name, status: 'absent', note: '', handler: null };
    byNr[nr] = entry;
    entries.push(entry);
  }
  return { arch, byNr, entries };
}

// one variable per arch, not a Map: every syscall looks its table up
let x86Table: SyscallTable | null = null;
let arm64Table: SyscallTable | null = null;

export function syscallTable(arch: ArchName): SyscallTable {
  if (arch === 'x86_64') return (x86Table ??= build(arch, X86_64_SYSCALLS));
  return (arm64Table ??= build(arch, ARM64_SYSCALLS));
}
