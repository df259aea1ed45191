import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MedianPruner,
  NopPruner,
  ParzenEstimator,
  RandomSampler,
  Study,
  SuccessiveHalvingPruner,
  TpeSampler,
  optimize,
  parseSpace,
  type Params,
  type Trial,
} from './index.js';

const space = parseSpace('x=0..1,lr=1e-5..1e-1:log,k=1..20', { x: 'float' });

/** A cheap objective with a narrow optimum (x = 0.2, lr = 5e-4, k = 7); maximum 0. */
const f = (p: Params) =>
  -(((p.x! - 0.2) / 0.1) ** 2 + (Math.log10(p.lr!) - Math.log10(5e-4)) ** 2 + ((p.k! - 7) / 2) ** 2);

async function bestOf(sampler: TpeSampler | RandomSampler, n: number): Promise<number> {
  const study = Study.create({ space, sampler, pruner: new NopPruner() });
  await optimize(study, (t) => Promise.resolve(f(t.params)), { nTrials: n });
  return study.best!.value!;
}

describe('search space', () => {
  it('parses ranges, types and log flags, and names bad entries', () => {
    expect(space).toEqual({
      x: { type: 'float', low: 0, high: 1 },
      lr: { type: 'float', low: 1e-5, high: 0.1, log: true },
      k: { type: 'int', low: 1, high: 20 },
    });
    expect(parseSpace('alpha=0..1')).toEqual({ alpha: { type: 'int', low: 0, high: 1 } });
    expect(parseSpace('alpha=0..1', { alpha: 'float' }).alpha!.type).toBe('float');
    expect(() => parseSpace('alpha=1..0')).toThrow(/--space: alpha: low 1 is above high 0/);
    expect(() => parseSpace('alpha:0..1')).toThrow(/cannot read "alpha:0..1"/);
    expect(() => parseSpace('lr=0..1:log')).toThrow(/log-uniform parameter needs low > 0/);
    expect(() => parseSpace('t=1..2:cube')).toThrow(/unknown flag ":cube"/);
  });
});

describe('TPE', () => {
  it('finds a better optimum than random search in the same budget over 10 seeds', async () => {
    const tpe: number[] = [];
    const rnd: number[] = [];
    for (let seed = 0; seed < 10; seed++) {
      tpe.push(await bestOf(new TpeSampler({ seed }), 40));
      rnd.push(await bestOf(new RandomSampler(seed), 40));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const wins = tpe.filter((v, i) => v > rnd[i]!).length;
    expect(mean(tpe)).toBeGreaterThan(mean(rnd));
    expect(wins).toBeGreaterThanOrEqual(7);
  });

  it('samples in bounds, rounds integers, and is deterministic per seed and trial number', () => {
    const trials: Trial[] = Array.from({ length: 15 }, (_, i) => {
      const params = new RandomSampler(3).sample(space, [], i);
      return { number: i, params, state: 'complete', value: f(params), intermediate: {}, start: '' };
    });
    const a = new TpeSampler({ seed: 1 }).sample(space, trials, 15);
    expect(a).toEqual(new TpeSampler({ seed: 1 }).sample(space, trials, 15));
    expect(Number.isInteger(a.k)).toBe(true);
    expect(a.lr).toBeGreaterThanOrEqual(1e-5);
    expect(a.lr).toBeLessThanOrEqual(0.1);
  });

  it('Parzen estimator: a normalised mixture over the domain, peaked at the observations', () => {
    const pe = new ParzenEstimator([0.2, 0.25], [1, 1], 0, 1);
    let mass = 0;
    for (let i = 0; i < 1000; i++) mass += Math.exp(pe.logPdf((i + 0.5) / 1000)) / 1000;
    expect(mass).toBeCloseTo(1, 2);
    expect(pe.logPdf(0.22)).toBeGreaterThan(pe.logPdf(0.9));
    expect(Math.exp(pe.logMass(0, 1))).toBeCloseTo(1, 5);
  });
});

const curveTrial = (number: number, values: number[], state: Trial['state'] = 'complete'): Trial => ({
  number,
  params: {},
  state,
  value: values.at(-1),
  start: '',
  intermediate: Object.fromEntries(values.map((v, i) => [String((i + 1) * 10), v])),
});

describe('pruners', () => {
  it('median: prunes a trial whose best value is below the median of completed trials at that step', () => {
    const done = [0.5, 0.6, 0.7, 0.8, 0.9].map((v, i) => curveTrial(i, [v, v + 0.05]));
    const p = new MedianPruner({ nStartupTrials: 5 });
    expect(p.prune(curveTrial(9, [0.65], 'running'), done, 'maximize')).toMatch(/median 0.7000/);
    expect(p.prune(curveTrial(9, [0.75], 'running'), done, 'maximize')).toBeUndefined();
    expect(p.prune(curveTrial(9, [0.1], 'running'), done.slice(0, 4), 'maximize')).toBeUndefined(); // startup
  });

  it('successive halving: keeps the top 1/η at each rung', () => {
    const others = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7].map((v, i) => curveTrial(i, [v]));
    const p = new SuccessiveHalvingPruner({ minResource: 10, reductionFactor: 4 });
    // 8 competitors at rung 0 (step 10): the top 2 continue.
    expect(p.prune(curveTrial(9, [0.65], 'running'), others, 'maximize')).toBeUndefined();
    expect(p.prune(curveTrial(9, [0.55], 'running'), others, 'maximize')).toMatch(/top 1\/4 of 8 trials/);
    expect(p.prune(curveTrial(9, [0.05], 'running'), others, 'minimize')).toBeUndefined();
  });
});

describe('study', () => {
  it('persists after each trial and resumes an interrupted search with the running trial first', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'study-')), 'study.json');
    const s1 = Study.create({ space, file, seed: 4 });
    await optimize(s1, (t) => Promise.resolve(f(t.params)), { nTrials: 3 });
    const crashed = s1.ask(); // a trial in flight when the process dies
    expect(JSON.parse(readFileSync(file, 'utf8')).trials).toHaveLength(4);

    const s2 = Study.create({ space, file, seed: 4 });
    expect(s2.finished).toBe(3);
    const again = s2.ask();
    expect(again).toEqual({ number: crashed.number, params: crashed.params, resumed: true });
    s2.tell(again.number, f(again.params));
    await optimize(s2, (t) => Promise.resolve(f(t.params)), { nTrials: 6 });
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.trials.map((t: Trial) => t.state)).toEqual(new Array(6).fill('complete'));
    expect(saved.trials.map((t: Trial) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(() => Study.create({ space: parseSpace('y=0..1'), file })).toThrow(/another search space/);
  });

  it('optimize: pruned trials abort through the signal and are recorded as pruned; errors mark the trial failed', async () => {
    const study = Study.create({
      space: parseSpace('q=0..1', { q: 'float' }),
      sampler: new RandomSampler(1),
      pruner: new MedianPruner({ nStartupTrials: 2 }),
    });
    let aborted = 0;
    await optimize(
      study,
      (t) => {
        let v = 0;
        for (let step = 1; step <= 5; step++) {
          v = t.params.q! * step;
          if (t.report(step, v)) {
            expect(t.signal.aborted).toBe(true);
            aborted++;
            break;
          }
        }
        return Promise.resolve(v);
      },
      { nTrials: 12 },
    );
    const pruned = study.trials.filter((t) => t.state === 'pruned');
    expect(pruned.length).toBe(aborted);
    expect(pruned.length).toBeGreaterThan(0);
    expect(pruned[0]!.message).toMatch(/median/);
    await expect(optimize(study, () => Promise.reject(new Error('boom')), { nTrials: 13 })).rejects.toThrow('boom');
    expect(study.trials.at(-1)!.state).toBe('fail');
  });
});
