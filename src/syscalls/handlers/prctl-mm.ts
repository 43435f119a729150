// prctl(PR_SET_MM, field, value, ...): kernel/sys.c's prctl_set_mm, its
// checks in its order. elfrun keeps, of the fields it sets, where argv and
// the environment are (StartInfo's argStart..envEnd, which /proc/<pid>/
// cmdline and environ show); a change makes the process its own copy of
// them. The others (code, data, brk, stack, auxv, exe file) and the whole
// PR_SET_MM_MAP are reported as unsupported.
import { readFileSync } from 'node:fs';
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import * as PR from '../../abi/prctl.js';

const CAP_SYS_RESOURCE = 24n;

/** vm.mmap_min_addr, the host's (the floor of the addresses PR_SET_MM takes) */
let minAddr = -1;
function mmapMinAddr(): number {
  if (minAddr < 0) {
    try {
      minAddr = Number(readFileSync('/proc/sys/vm/mmap_min_addr', 'latin1').trim());
    } catch {
      minAddr = 65536;
    }
  }
  return minAddr;
}

const FIELDS: Record<number, 'argStart' | 'argEnd' | 'envStart' | 'envEnd'> = {
  [PR.PR_SET_MM_ARG_START]: 'argStart',
  [PR.PR_SET_MM_ARG_END]: 'argEnd',
  [PR.PR_SET_MM_ENV_START]: 'envStart',
  [PR.PR_SET_MM_ENV_END]: 'envEnd',
};

export function prctlMm(t: Task, opt: number, addr: number, a4: number, a5: number): number {
  if (a5 || (a4 && opt !== PR.PR_SET_MM_AUXV && opt !== PR.PR_SET_MM_MAP && opt !== PR.PR_SET_MM_MAP_SIZE)) fail(E.EINVAL);
  if (opt === PR.PR_SET_MM_MAP_SIZE) {
    t.mm.setU32(addr, PR.PRCTL_MM_MAP_SIZE);
    return 0;
  }
  if (opt === PR.PR_SET_MM_MAP) {
    if (a4 !== PR.PRCTL_MM_MAP_SIZE) fail(E.EINVAL);
    throw new Unsupported('prctl PR_SET_MM_MAP', E.EINVAL);
  }
  if (!((t.cred.caps.eff >> CAP_SYS_RESOURCE) & 1n)) fail(E.EPERM);
  if (opt === PR.PR_SET_MM_EXE_FILE) {
    t.fds.file(addr); // EBADF first
    throw new Unsupported('prctl PR_SET_MM_EXE_FILE', E.EINVAL);
  }
  if (opt === PR.PR_SET_MM_AUXV) throw new Unsupported('prctl PR_SET_MM_AUXV', E.EINVAL);
  const limit = t.mm.layout.taskSize;
  if (addr >= limit || addr < mmapMinAddr()) fail(E.EINVAL);
  if (opt < PR.PR_SET_MM_START_CODE || opt > PR.PR_SET_MM_ENV_END) fail(E.EINVAL);
  const field = FIELDS[opt];
  if (field === undefined) throw new Unsupported(`prctl PR_SET_MM field ${opt}`, E.EINVAL);
  const start = t.proc.start;
  if (start === null) fail(E.EINVAL);
  const next = { ...start, [field]: addr };
  // validate_prctl_map_addr: each within the address space, each pair in order
  for (const v of [next.argStart, next.argEnd, next.envStart, next.envEnd]) if (v >= limit || v < mmapMinAddr()) fail(E.EINVAL);
  if (next.argStart > next.argEnd || next.envStart > next.envEnd) fail(E.EINVAL);
  // find_vma: some mapping ends above the address
  if (!t.proc.mm.space.vmas.some((v) => v.end > addr)) fail(E.EFAULT);
  t.proc.start = next;
  return 0;
}
