// The text of /proc/<pid>/maps: one line per VMA, formatted as
// fs/proc/task_mmu.c does.
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { isAnon, type Vma } from './vma.js';

/** /proc/self/maps lines, formatted as fs/proc/task_mmu.c does. */
export function mapsLines(vmas: readonly Vma[]): string[] {
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
  return vmas.map((v) => {
    const p =
      (v.prot & PROT_READ ? 'r' : '-') +
      (v.prot & PROT_WRITE ? 'w' : '-') +
      (v.prot & PROT_EXEC ? 'x' : '-') +
      (v.info.shared ? 's' : 'p');
    // st_dev as glibc encodes it (gnu_dev_major/minor): minors above 255 are split.
    const lo = v.info.dev >>> 0;
    const hi = Math.floor(v.info.dev / 0x100000000);
    const major = (((lo >>> 8) & 0xfff) | (hi & 0xfffff000)) >>> 0;
    const minor = ((lo & 0xff) | ((lo >>> 12) & 0xfff00) | ((hi & 0xfff) << 20)) >>> 0;
    // Every line ends its fields with a space; a name is then padded to column 73.
    const offset = isAnon(v.info) ? 0 : v.info.offset; // Linux shows a file offset for files only
    const head = `${hex(v.start)}-${hex(v.end)} ${p} ${hex(offset)} ${hex2(major)}:${hex2(minor)} ${v.info.ino} `;
    return v.info.name ? `${head.padEnd(72)} ${v.info.name}` : head;
  });
}
