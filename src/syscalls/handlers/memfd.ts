// memfd_create(2), and fcntl's seal commands (fcntl is declared in fs.ts).
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, SysError, Unsupported } from '../../abi/errors.js';
import { MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_EXEC, MFD_HUGETLB, MFD_NOEXEC_SEAL } from '../../abi/fcntl.js';
import { OPEN_FLAGS } from '../../fs/flags.js';
import { memfdFile } from '../../fs/memfd.js';
import { partial, type Def } from './util.js';

/** MFD_NAME_MAX_LEN: NAME_MAX less "memfd:" */
const NAME_MAX_LEN = 249;

function memfdCreate(t: Task, nameAddr: number, flags: number): number {
  if (flags & MFD_HUGETLB) throw new Unsupported('memfd_create MFD_HUGETLB', E.EINVAL);
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC)) fail(E.EINVAL);
  if (flags & MFD_EXEC && flags & MFD_NOEXEC_SEAL) fail(E.EINVAL);
  let name: Buffer;
  try {
    name = t.mm.cstring(nameAddr, NAME_MAX_LEN + 1);
  } catch (e) {
    // a name longer than MFD_NAME_MAX_LEN is EINVAL
    if (e instanceof SysError && e.errno === E.ENAMETOOLONG) fail(E.EINVAL);
    throw e;
  }
  const f = memfdFile(t, name.toString('latin1'), flags, OPEN_FLAGS[t.arch.name].O_LARGEFILE);
  try {
    return t.fds.add(f, (flags & MFD_CLOEXEC) !== 0);
  } catch (e) {
    f.unref();
    throw e;
  }
}

export const memfdDefs: Record<string, Def> = {
  memfd_create: partial(
    { args: ['name', 'mfdflags'], ret: 'fd' },
    (t, a) => memfdCreate(t, a.ptr(0), a.u32(1)),
    'a tmpfs file with Linux 6.3\'s MFD_EXEC/MFD_NOEXEC_SEAL (vm.memfd_noexec 0: executable unless MFD_NOEXEC_SEAL) and every seal; ' +
      'MFD_HUGETLB is reported as unsupported',
  ),
};
