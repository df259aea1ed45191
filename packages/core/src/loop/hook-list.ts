/**
 * The ordered hook list and the control flags. Every hook call goes through {@link HookList.call},
 * which re-throws an error naming the hook (and the config path that selected it), like Rollup's
 * `PluginDriver.runHook`.
 */
import { DistilleryError } from '../util/errors.js';
import type { Control, Hook, HookEvent, TrainState } from './types.js';

/** The flags hooks set through {@link Control}; the loop reads and clears them. */
export class ControlFlags implements Control {
  stopReason: string | undefined;
  save = false;
  evaluate = false;
  stop(reason: string): void {
    this.stopReason ??= reason;
  }
  saveNow(): void {
    this.save = true;
  }
  evaluateNow(): void {
    this.evaluate = true;
  }
}

/** Wrap an error thrown by a hook so it names the hook. DistilleryErrors keep their code. */
export function hookError(hook: Pick<Hook, 'name' | 'source'>, event: string, err: unknown): Error {
  const e = err as Error;
  const who = `hook "${hook.name}"${hook.source ? ` (selected by ${hook.source})` : ''}`;
  if (e instanceof DistilleryError && e.message.includes(who)) return e;
  const message = `${who} failed in ${event}: ${e?.message ?? String(err)}`;
  const opts = { where: hook.source ?? hook.name, cause: err };
  return e instanceof DistilleryError
    ? new DistilleryError(e.code, message, opts)
    : new DistilleryError('HOOK_FAILED', message, opts);
}

export class HookList {
  readonly hooks: Hook[];
  constructor(hooks: readonly Hook[]) {
    this.hooks = [...hooks];
    const seen = new Set<string>();
    for (const h of this.hooks) {
      // Hook state is saved by name in checkpoints: names must be unique.
      let name = h.name;
      for (let i = 2; seen.has(name); i++) name = `${h.name}#${i}`;
      if (name !== h.name) (h as { name: string }).name = name;
      seen.add(name);
    }
  }

  /** Call `event` on every hook that has it, in order, awaiting each. */
  async call(event: HookEvent, state: Readonly<TrainState>, control: Control, ...args: unknown[]): Promise<void> {
    for (const h of this.hooks) {
      const fn = h[event] as ((s: TrainState, c: Control, ...a: unknown[]) => unknown) | undefined;
      if (!fn) continue;
      try {
        const r = fn.call(h, state, control, ...args);
        if (r instanceof Promise) await r;
      } catch (err) {
        throw hookError(h, event, err);
      }
    }
  }

  /** Tell every hook about a failure (errors inside onError are ignored: the first error matters). */
  async error(state: Readonly<TrainState>, error: Error): Promise<void> {
    for (const h of this.hooks) {
      try {
        await h.onError?.(state, error);
      } catch {
        // keep reporting the original failure
      }
    }
  }

  /** State of every stateful hook, by name (saved in checkpoints). */
  stateDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const h of this.hooks) if (h.stateDict) out[h.name] = h.stateDict();
    return out;
  }

  loadStateDict(s: Record<string, unknown>): void {
    for (const h of this.hooks) if (h.loadStateDict && s[h.name] !== undefined) h.loadStateDict(s[h.name]);
  }
}
