// Host timers of any length. Node's setTimeout holds at most 2^31-1 ms
// (about 24.8 days): a longer delay fires after 1 ms with a
// TimeoutOverflowWarning on elfrun's stderr, which is the guest's. A guest
// may wait 2^32 seconds or more (poll, alarm, timers), so a long wait is
// made of several host timers, each re-armed for what is left.
import { nowMs } from './clock.js';

/** the longest delay Node's timers take */
const MAX_DELAY_MS = 0x7fffffff;

export class HostTimer {
  private handle: ReturnType<typeof setTimeout> | null = null;
  /** when it fires, on nowMs()'s clock */
  readonly due: number;

  /** Call fn once, `ms` from now (Infinity: never; the timer is then inert). */
  constructor(
    ms: number,
    private readonly fn: () => void,
  ) {
    this.due = nowMs() + Math.max(0, ms);
    if (ms !== Infinity) this.arm();
  }

  private arm(): void {
    const left = this.due - nowMs();
    if (left > MAX_DELAY_MS) {
      this.handle = setTimeout(() => this.arm(), MAX_DELAY_MS);
      return;
    }
    this.handle = setTimeout(() => {
      this.handle = null;
      this.fn();
    }, Math.max(0, left));
  }

  clear(): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
  }
}
