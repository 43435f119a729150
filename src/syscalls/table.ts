// THE TABLE: per arch, syscall number -> name -> declaration (handler,
// status, trace signature), as gVisor's linux64.go does it. Each handler
// module declares its subsystem's syscalls by name; they are shared between
// arches by name, and a name an arch does not have (open, fork... on arm64)
// is simply not in its table.
import type { ArchName } from '../cpu/arch.js';
import { ARM64_SYSCALLS, X86_64_SYSCALLS } from '../abi/numbers.js';
import type { SyscallEntry, SyscallTable } from './dispatch.js';
import type { Def } from './handlers/util.js';
import { fsDefs } from './handlers/fs.js';
import { xattrDefs } from './handlers/xattr.js';
import { utsDefs } from './handlers/uts.js';
import { mmDefs } from './handlers/mm.js';
import { procDefs } from './handlers/proc.js';
import { timeDefs } from './handlers/time.js';
import { signalDefs } from './handlers/signal.js';
import { processDefs } from './handlers/process.js';
import { epollDefs, pollDefs } from './handlers/poll.js';
import { pathDefs } from './handlers/paths.js';
import { netDefs } from './handlers/net.js';
import { msgDefs } from './handlers/netmsg.js';
import { eventDefs } from './handlers/events.js';
import { inotifyDefs } from './handlers/inotify.js';
import { runtimeDefs } from './handlers/runtime.js';
import { pidfdDefs } from './handlers/pidfd.js';
import { lockDefs } from './handlers/locks.js';
import { memfdDefs } from './handlers/memfd.js';
import { timerDefs } from './handlers/timers.js';
import { ioDefs } from './handlers/io.js';
import { spliceDefs } from './handlers/splice.js';
import { spaceDefs } from './handlers/space.js';
import { schedDefs } from './handlers/sched.js';
import { mountDefs } from './handlers/mount.js';
import { fsmountDefs } from './handlers/fsmount.js';
import { statmountDefs } from './handlers/statmount.js';
import { fileattrDefs } from './handlers/fileattr.js';
import { lsmDefs } from './handlers/lsm.js';
import { setnsDefs } from './handlers/setns.js';
import { sysvipcDefs } from './handlers/sysvipc.js';
import { mqueueDefs } from './handlers/mqueue.js';
import { numaDefs } from './handlers/numa.js';
import { cloneDefs } from './handlers/clone.js';
import { pvmDefs } from './handlers/pvm.js';
import { syslogDefs } from './handlers/syslog.js';
import { aioDefs } from './handlers/aio.js';
import { openDefs } from './handlers/open.js';
import { seccompDefs } from './handlers/seccomp.js';
import { direntDefs } from './handlers/dirents.js';
import { futexDefs } from './handlers/futex.js';

/** The declarations of several modules as one map by name; a name declared twice is an error. */
export function assemble(modules: ReadonlyArray<Readonly<Record<string, Def>>>): ReadonlyMap<string, Def> {
  const all = new Map<string, Def>();
  for (const defs of modules) {
    for (const [name, def] of Object.entries(defs)) {
      if (all.has(name)) throw new Error(`syscall ${name} is declared twice`);
      all.set(name, def);
    }
  }
  return all;
}

/** Every declared syscall: supported, partial and probed. */
export const DEFS = assemble([fsDefs, pathDefs, xattrDefs, mmDefs, procDefs, processDefs, signalDefs, timeDefs, pollDefs, epollDefs, netDefs, msgDefs, eventDefs, inotifyDefs, runtimeDefs, pidfdDefs, lockDefs, memfdDefs, timerDefs, ioDefs, spliceDefs, spaceDefs, schedDefs, mountDefs, utsDefs, sysvipcDefs, mqueueDefs, numaDefs, cloneDefs, pvmDefs, aioDefs, openDefs, seccompDefs, direntDefs, syslogDefs, fsmountDefs, setnsDefs, futexDefs, statmountDefs, fileattrDefs, lsmDefs]);

/** One arch's table: every syscall it numbers, declared or absent. */
export function buildTable(arch: ArchName, names: Readonly<Record<number, string>>, defs: ReadonlyMap<string, Def>): SyscallTable {
  const byNr: Array<SyscallEntry | undefined> = [];
  const entries: SyscallEntry[] = [];
  for (const [nrStr, name] of Object.entries(names)) {
    const nr = Number(nrStr);
    const def = defs.get(name);
    const entry: SyscallEntry = def
      ? { nr, name, status: def.status, note: def.note, handler: def.handler, sig: def.sig }
      : { nr, name, status: 'absent', note: '', handler: null, sig: null };
    byNr[nr] = entry;
    entries.push(entry);
  }
  return { arch, byNr, entries };
}

// one constant per arch, not a Map: every syscall looks its table up
const X86_64_TABLE = buildTable('x86_64', X86_64_SYSCALLS, DEFS);
const ARM64_TABLE = buildTable('arm64', ARM64_SYSCALLS, DEFS);

export function syscallTable(arch: ArchName): SyscallTable {
  return arch === 'x86_64' ? X86_64_TABLE : ARM64_TABLE;
}
