/**
 * Progress of a run on stderr, as training-loop hooks. On a terminal: a live bar per training phase
 * and one per evaluation (cli-progress), with evaluation results printed as lines above the bars so
 * they stay on screen. Elsewhere (CI logs): one line per ~10 % of the steps, one per evaluation start
 * and result. The ETA is smoothed: an exponential moving average of the step time, evaluation pauses
 * excluded.
 */
import cliProgress from 'cli-progress';
import type { Control, DistillerEvents, Hook, TrainState } from '@distillery/core';

/** Exponentially smoothed seconds per step, and the ETA it implies. */
export class StepTimer {
  private ema: number | undefined;
  private last: number;
  /**
   * @param alpha - weight of the newest step time (0.1: about the last 10 steps count) @default 0.1
   * @param now - clock in ms (tests pass a fake one) @default Date.now
   */
  constructor(
    private readonly alpha = 0.1,
    private readonly now: () => number = Date.now,
  ) {
    this.last = now();
  }

  /** Record that `steps` steps finished now. */
  step(steps = 1): void {
    const t = this.now();
    const per = (t - this.last) / 1000 / Math.max(1, steps);
    this.ema = this.ema === undefined ? per : this.alpha * per + (1 - this.alpha) * this.ema;
    this.last = t;
  }

  /** Forget the time since the last step (an evaluation ran): it is not step time. */
  pause(): void {
    this.last = this.now();
  }

  /** Steps per second (undefined before the first step). */
  get rate(): number | undefined {
    return this.ema ? 1 / this.ema : undefined;
  }

  /** Seconds left for `remaining` steps (undefined before the first step). */
  eta(remaining: number): number | undefined {
    return this.ema === undefined ? undefined : this.ema * remaining;
  }
}

/** `1:02:03`, `2:03`, or `-` when unknown. */
export function formatDuration(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '-';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Metrics as `accuracy 91.20 %, loss 0.1234`. */
export function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(
      ([k, v]) =>
        `${k} ${k === 'accuracy' || k === 'inScopeAccuracy' || k === 'oosRecall' ? (100 * v).toFixed(2) + ' %' : v.toFixed(4)}`,
    )
    .join(', ');
}

/** Handle of one evaluation's progress. */
export interface EvalProgress {
  /** `n` more batches done. */
  tick(n?: number): void;
  /** The evaluation finished (its result line is printed by the caller or the 'evaluate' event). */
  done(): void;
}

/** Options of {@link RunProgress}. */
export interface RunProgressOptions {
  /** Live bars (true) or plain lines (false). @default stream.isTTY */
  bar?: boolean;
}

/** Progress of one run: training phases, evaluations, result lines. */
export class RunProgress {
  private readonly multi?: cliProgress.MultiBar;
  private timer?: StepTimer;

  constructor(
    private readonly stream: NodeJS.WritableStream = process.stderr,
    opts: RunProgressOptions = {},
  ) {
    if (opts.bar ?? (stream as NodeJS.WriteStream).isTTY === true) {
      this.multi = new cliProgress.MultiBar(
        {
          stream: stream,
          hideCursor: true,
          clearOnComplete: false,
          format: '{label} {bar} {value}/{total} {unit} | {info}',
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  /** A line that stays on screen (above the bars on a terminal). */
  log(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }

  /** A training-loop hook that shows one run (training phase) under `label`. */
  hook(label: string): Hook {
    let bar: cliProgress.SingleBar | undefined;
    let lastPct = -1;
    let lastLoss = '-';
    const timer = new StepTimer();
    this.timer = timer;
    const info = (s: Readonly<TrainState>) =>
      `loss ${lastLoss} | ${timer.rate ? timer.rate.toFixed(2) : '-'} steps/s | eta ${formatDuration(timer.eta(s.totalSteps - s.globalStep))}`;
    const stop = () => {
      bar?.stop();
      bar = undefined;
    };
    return {
      name: 'progress',
      onTrainBegin: (s) => {
        timer.pause();
        const from = s.resumedFrom ? `, resumed at step ${s.globalStep}` : '';
        if (this.multi)
          bar = this.multi.create(s.totalSteps, s.globalStep, { label: label.padEnd(8), unit: 'steps', info: info(s) });
        else
          this.stream.write(
            `${label}: ${s.totalSteps} optimizer steps (${s.mode} mode, backend ${s.backend}${from})\n`,
          );
        if (bar && from) this.log(`${label}: resumed at step ${s.globalStep}`);
      },
      onStepEnd: (s) => {
        timer.step();
        lastLoss = s.loss.toFixed(4);
        if (bar) bar.update(s.globalStep, { info: info(s) });
        else {
          const pct = Math.floor((10 * s.globalStep) / Math.max(1, s.totalSteps));
          if (pct !== lastPct) {
            lastPct = pct;
            this.stream.write(
              `${label}: step ${s.globalStep}/${s.totalSteps} loss ${lastLoss} (${timer.rate?.toFixed(2) ?? '-'} steps/s, eta ${formatDuration(timer.eta(s.totalSteps - s.globalStep))})\n`,
            );
          }
        }
      },
      onEvaluate: (s, _c, metrics) => {
        const best = s.best?.step === s.globalStep ? ' (best)' : '';
        this.log(`${label}: step ${s.globalStep} eval: ${formatMetrics(metrics)}${best}`);
      },
      onTrainEnd: (s) => {
        if (bar) bar.update({ info: info(s) });
        stop();
        if (s.stopReason) this.log(`${label}: stopped at step ${s.globalStep}: ${s.stopReason}`);
      },
      // A failed run stops every bar (and shows the cursor again) before the error is printed.
      onError: () => {
        stop();
        this.stop();
      },
    };
  }

  /** Follow a trainer's or distiller's telemetry events under `label` (for code that observes `events` only). */
  attach(events: DistillerEvents, label: string): () => void {
    const h = this.hook(label);
    const control: Control = { stop: () => undefined, saveNow: () => undefined, evaluateNow: () => undefined };
    const s: TrainState = {
      globalStep: 0,
      totalSteps: 0,
      epoch: 0,
      mode: 'steps',
      loss: NaN,
      losses: {},
      lr: 0,
      checkpoints: [],
      backend: '',
      startedAt: Date.now(),
    };
    events.on(
      'trainBegin',
      (i) =>
        void h.onTrainBegin!(Object.assign(s, { totalSteps: i.totalSteps, mode: i.mode, backend: i.backend }), control),
    );
    events.on('stepEnd', (i) => void h.onStepEnd!(Object.assign(s, i), control));
    events.on(
      'evaluate',
      (e) => void h.onEvaluate!(Object.assign(s, { globalStep: e.globalStep }), control, e.metrics),
    );
    events.on('trainEnd', () => void h.onTrainEnd!(s, control));
    events.on('error', (e) => void h.onError!(s, e));
    return () => void h.onTrainEnd!(s, control);
  }

  /** Show an evaluation of `batches` batches under `label` (its own bar, or a start line). */
  evaluation(label: string, batches: number, what = 'evaluating'): EvalProgress {
    const t0 = Date.now();
    let done = 0;
    const bar = this.multi?.create(batches, 0, { label: `${label} eval`.padEnd(8), unit: 'batches', info: what });
    if (!bar) this.stream.write(`${label}: ${what} (${batches} batches)\n`);
    return {
      tick: (n = 1) => {
        done += n;
        bar?.update(done, { info: `${what} | ${((Date.now() - t0) / 1000).toFixed(1)} s` });
      },
      done: () => {
        if (bar) {
          bar.stop();
          this.multi!.remove(bar);
        }
        // Evaluation time is not step time: keep it out of the ETA.
        this.timer?.pause();
      },
    };
  }

  /** Stop every bar (end of the run, or an error). */
  stop(): void {
    if (!this.multi) return;
    // One last render flushes lines logged since the previous one (stop() alone would drop them).
    (this.multi as unknown as { update(): void }).update();
    this.multi.stop();
  }
}

/**
 * Follow one trainer's or distiller's events on `stream` (the single-phase form of {@link RunProgress}).
 * @returns a function that stops the bar
 */
export function attachProgress(
  events: DistillerEvents,
  label: string,
  stream: NodeJS.WritableStream = process.stderr,
  opts: RunProgressOptions = {},
): () => void {
  const p = new RunProgress(stream, opts);
  const detach = p.attach(events, label);
  return () => {
    detach();
    p.stop();
  };
}

/** A hook that shows one run's progress on `stream` (the single-phase form of {@link RunProgress}). */
export function progressHook(
  label: string,
  stream: NodeJS.WritableStream = process.stderr,
  opts: RunProgressOptions = {},
): Hook {
  const p = new RunProgress(stream, opts);
  const h = p.hook(label);
  return {
    ...h,
    onTrainEnd: async (s, c) => {
      await h.onTrainEnd?.(s, c);
      p.stop();
    },
  };
}
