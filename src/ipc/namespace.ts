// The guest's IPC namespace: its System V shared memory, semaphores and
// message queues, and their limits. One per Kernel (Kernel.ipc), so two
// Machines never see each other's objects, nor the host's.
import type { AddressSpace } from '../mm/address-space.js';
import { initialLimits, type IpcLimits } from './limits.js';
import { MessageQueues } from './msg.js';
import { Semaphores } from './sem.js';
import { SharedMemory } from './shm.js';

export class IpcNamespace {
  readonly limits: IpcLimits = initialLimits();
  readonly shm: SharedMemory;
  readonly sem = new Semaphores(this.limits);
  readonly msg = new MessageQueues(this.limits);

  constructor(
    /** the address spaces of the live processes (shm_nattch counts their VMAs) */
    spaces: () => Iterable<AddressSpace>,
  ) {
    this.shm = new SharedMemory(this.limits, spaces);
  }
}
