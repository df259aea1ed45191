/**
 * Progress of a run on stderr. On a terminal: a live bar per training phase and one per evaluation
 * (cli-progress), with evaluation results printed as lines above the bars so they stay on screen.
 * Elsewhere (CI logs): one line per ~10 % of the steps, one per evaluation start and result.
 * The ETA is smoothed: an exponential moving average of the step time, evaluation pauses excluded.
 */
import cliProgress from 'cli-progress';
import type { DistillerEvents } from '@distillery/core';

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
    .map(([k, v]) => `${k} ${k === 'accuracy' ? (100 * v).toFixed(2) + ' %' : v.toFixed(4)}`)
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
        { stream: stream as NodeJS.WriteStream, hideCursor: true, clearOnComplete: false, format: '{label} {bar} {value}/{total} {unit} | {info}' },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  /** A line that stays on screen (above the bars on a terminal). */
  log(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }

  /** Follow a trainer's or distiller's events under `label`; returns a detach function. */
  attach(events: DistillerEvents, label: string): () => void {
    let bar: cliProgress.SingleBar | undefined;
    let total = 0;
    let lastPct = -1;
    let lastLoss = '-';
    const timer = new StepTimer();
    this.timer = timer;
    const info = (step: number) => `loss ${lastLoss} | ${timer.rate ? timer.rate.toFixed(2) : '-'} steps/s | eta ${formatDuration(timer.eta(total - step))}`;
    events.on('trainBegin', (i) => {
      total = i.totalSteps;
      timer.pause();
      if (this.multi) bar = this.multi.create(total, 0, { label: label.padEnd(8), unit: 'steps', info: info(0) });
      else this.stream.write(`${label}: ${total} optimizer steps (${i.mode} mode, backend ${i.backend})\n`);
    });
    events.on('stepEnd', (s) => {
      timer.step();
      lastLoss = s.loss.toFixed(4);
      if (bar) bar.update(s.globalStep, { info: info(s.globalStep) });
      else {
        const pct = Math.floor((10 * s.globalStep) / Math.max(1, total));
        if (pct !== lastPct) {
          lastPct = pct;
          this.stream.write(`${label}: step ${s.globalStep}/${total} loss ${lastLoss} (${timer.rate?.toFixed(2) ?? '-'} steps/s, eta ${formatDuration(timer.eta(total - s.globalStep))})\n`);
        }
      }
    });
    events.on('evaluate', (e) => this.log(`${label}: step ${e.globalStep} eval: ${formatMetrics(e.metrics)}`));
    const stop = () => {
      if (bar) {
        bar.update({ info: info(total) });
        bar.stop();
      }
      bar = undefined;
    };
    events.on('trainEnd', stop);
    // A failed run stops every bar (and shows the cursor again) before the error is printed.
    events.on('error', () => {
      stop();
      this.stop();
    });
    return stop;
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
export function attachProgress(events: DistillerEvents, label: string, stream: NodeJS.WritableStream = process.stderr, opts: RunProgressOptions = {}): () => void {
  const p = new RunProgress(stream, opts);
  const detach = p.attach(events, label);
  return () => {
    detach();
    p.stop();
  };
}
