/**
 * A study: the search space, its direction and every trial, persisted as one JSON file rewritten
 * atomically after each change (ask, report, tell). The ask/tell API lets any process run a trial:
 * `ask()` hands out parameters, the worker trains and `report()`s evaluations (asking whether to
 * stop), then `tell()`s the result. Opening an existing file resumes it: trials that were still
 * running when the last process died are handed out again, with the same parameters, first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DistilleryError, writeFileAtomicSync } from '@distillery/core';
import { validateSpace, type Params, type SearchSpace } from './space.js';
import { RandomSampler, TpeSampler, type Direction, type Sampler } from './samplers.js';
import { MedianPruner, NopPruner, SuccessiveHalvingPruner, type Pruner } from './pruners.js';
import type { Trial } from './trial.js';

/** Study options. */
export interface StudyOptions {
  space: SearchSpace;
  /** @default "maximize" */
  direction?: Direction;
  /** @default a TpeSampler with `seed` */
  sampler?: Sampler;
  /** @default a MedianPruner */
  pruner?: Pruner;
  /** JSON file to persist to (none: in memory). */
  file?: string;
  /** @default "study" */
  name?: string;
  /** Seed of the default sampler. @default 0 */
  seed?: number;
  /** Extra data stored with the study (e.g. the base config path). */
  meta?: Record<string, unknown>;
}

interface StudyFile {
  version: 1;
  name: string;
  direction: Direction;
  space: SearchSpace;
  sampler: string;
  pruner: string;
  meta?: Record<string, unknown>;
  trials: Trial[];
}

/** The parameters of an asked trial. */
export interface AskedTrial {
  number: number;
  params: Params;
  /** True when this trial was running when an earlier process stopped, and is handed out again. */
  resumed: boolean;
}

const sameSpace = (a: SearchSpace, b: SearchSpace) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

export class Study {
  readonly name: string;
  readonly direction: Direction;
  readonly space: SearchSpace;
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  readonly file?: string;
  readonly meta: Record<string, unknown>;
  private readonly trialList: Trial[];
  /** Running trials inherited from an interrupted process, to hand out again. */
  private readonly orphans: number[];

  private constructor(o: StudyOptions, trials: Trial[]) {
    this.space = validateSpace(o.space);
    this.direction = o.direction ?? 'maximize';
    this.sampler = o.sampler ?? new TpeSampler({ seed: o.seed ?? 0, direction: this.direction });
    this.pruner = o.pruner ?? new MedianPruner();
    this.file = o.file;
    this.name = o.name ?? 'study';
    this.meta = o.meta ?? {};
    this.trialList = trials;
    this.orphans = trials.filter((t) => t.state === 'running').map((t) => t.number);
  }

  /** A new in-memory or file-backed study (an existing file is resumed: see {@link Study.open}). */
  static create(o: StudyOptions): Study {
    if (o.file && existsSync(o.file)) return Study.open({ ...o, file: o.file });
    const s = new Study(o, []);
    s.save();
    return s;
  }

  /** Resume a study file. Its space and direction must match the options. */
  static open(o: StudyOptions & { file: string }): Study {
    let f: StudyFile;
    try {
      f = JSON.parse(readFileSync(o.file, 'utf8')) as StudyFile;
    } catch (e) {
      throw new DistilleryError('STUDY_INVALID', `cannot read the study: ${(e as Error).message}`, {
        where: o.file,
        hint: 'delete it to start a new search, or pass another --study file',
      });
    }
    if (!Array.isArray(f.trials) || typeof f.space !== 'object')
      throw new DistilleryError('STUDY_INVALID', 'not a study file (needs "space" and "trials")', { where: o.file });
    if (!sameSpace(f.space, o.space)) {
      throw new DistilleryError(
        'STUDY_MISMATCH',
        `the study was made for another search space (${Object.keys(f.space).join(', ')})`,
        { where: o.file, hint: 'use the same --space to resume, or another --study file for a new search' },
      );
    }
    if ((o.direction ?? 'maximize') !== f.direction)
      throw new DistilleryError('STUDY_MISMATCH', `the study ${f.direction}s`, { where: o.file });
    return new Study({ ...o, name: o.name ?? f.name, meta: { ...f.meta, ...o.meta } }, f.trials);
  }

  /** All trials (read-only view). */
  get trials(): readonly Trial[] {
    return this.trialList;
  }

  /** Trials that finished (complete, pruned or failed). */
  get finished(): number {
    return this.trialList.filter((t) => t.state !== 'running').length;
  }

  /** The best complete trial. */
  get best(): Trial | undefined {
    const done = this.trialList.filter((t) => t.state === 'complete' && Number.isFinite(t.value));
    return done.reduce<Trial | undefined>(
      (b, t) => (!b || (this.direction === 'maximize' ? t.value! > b.value! : t.value! < b.value!) ? t : b),
      undefined,
    );
  }

  private trial(n: number): Trial {
    const t = this.trialList.find((x) => x.number === n);
    if (!t) throw new DistilleryError('STUDY_TRIAL', `no trial number ${n}`, { where: this.file ?? this.name });
    return t;
  }

  /** Parameters for the next trial: an interrupted trial first, else the sampler's choice. */
  ask(worker = `${hostname()}:${process.pid}`): AskedTrial {
    const orphan = this.orphans.shift();
    if (orphan !== undefined) {
      const t = this.trial(orphan);
      t.intermediate = {};
      t.worker = worker;
      t.start = new Date().toISOString();
      this.save();
      return { number: t.number, params: { ...t.params }, resumed: true };
    }
    const number = this.trialList.reduce((m, t) => Math.max(m, t.number + 1), 0);
    const params = this.sampler.sample(
      this.space,
      this.trialList.filter((t) => t.state !== 'running'),
      number,
    );
    this.trialList.push({
      number,
      params,
      state: 'running',
      intermediate: {},
      start: new Date().toISOString(),
      worker,
    });
    this.save();
    return { number, params: { ...params }, resumed: false };
  }

  /** Record an intermediate value (e.g. validation accuracy at an optimizer step). */
  report(number: number, step: number, value: number): void {
    const t = this.trial(number);
    if (t.state !== 'running')
      throw new DistilleryError('STUDY_TRIAL', `trial ${number} is ${t.state}; report() needs a running trial`, {
        where: this.file ?? this.name,
      });
    t.intermediate[String(step)] = value;
    this.save();
  }

  /** Whether the pruner stops this trial now; the reason, or undefined to go on. */
  shouldPrune(number: number): string | undefined {
    return this.pruner.prune(this.trial(number), this.trialList, this.direction);
  }

  /** Finish a trial with its objective value, or as pruned / failed. */
  tell(number: number, result: number | { state: 'pruned' | 'fail'; message?: string }): Trial {
    const t = this.trial(number);
    if (t.state !== 'running')
      throw new DistilleryError('STUDY_TRIAL', `trial ${number} was already told (${t.state})`, {
        where: this.file ?? this.name,
      });
    if (typeof result === 'number') {
      if (!Number.isFinite(result)) {
        t.state = 'fail';
        t.message = `objective returned ${result}`;
      } else {
        t.state = 'complete';
        t.value = result;
      }
    } else {
      t.state = result.state;
      if (result.message) t.message = result.message;
    }
    t.end = new Date().toISOString();
    this.save();
    return t;
  }

  /** Rewrite the study file atomically (no-op in memory). */
  save(): void {
    if (!this.file) return;
    const f: StudyFile = {
      version: 1,
      name: this.name,
      direction: this.direction,
      space: this.space,
      sampler: this.sampler.name,
      pruner: this.pruner.name,
      meta: this.meta,
      trials: this.trialList,
    };
    writeFileAtomicSync(this.file, JSON.stringify(f, null, 2) + '\n');
  }
}

/** Build a sampler by name. */
export function makeSampler(name: string, seed: number, direction: Direction = 'maximize'): Sampler {
  if (name === 'tpe') return new TpeSampler({ seed, direction });
  if (name === 'random') return new RandomSampler(seed);
  throw new DistilleryError('USAGE', `unknown sampler "${name}"`, {
    where: '--sampler',
    hint: 'tpe (default) or random',
  });
}

/** Build a pruner by name. */
export function makePruner(name: string): Pruner {
  if (name === 'median') return new MedianPruner();
  if (name === 'halving') return new SuccessiveHalvingPruner();
  if (name === 'none') return new NopPruner();
  throw new DistilleryError('USAGE', `unknown pruner "${name}"`, {
    where: '--pruner',
    hint: 'median (default), halving or none',
  });
}
