/**
 * Progress on long work, as a training-loop hook: a live bar (cli-progress) on a terminal, and one
 * plain line per ~10 % of the steps otherwise (CI logs stay readable).
 */
import cliProgress from 'cli-progress';
import type { Control, DistillerEvents, Hook, TrainState } from '@distillery/core';

const fmtMetrics = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${k === 'accuracy' ? (100 * v).toFixed(2) + ' %' : v.toFixed(4)}`).join(', ');

/** A hook that shows the run's progress on `stream`. */
export function progressHook(label: string, stream: NodeJS.WriteStream = process.stderr, opts: { bar?: boolean } = {}): Hook {
  const useBar = opts.bar ?? stream.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let lastPct = -1;
  let t0 = Date.now();
  let step0 = 0;
  const speed = (s: Readonly<TrainState>) => ((s.globalStep - step0) / Math.max(1e-3, (Date.now() - t0) / 1000)).toFixed(2);
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    name: 'progress',
    onTrainBegin: (s) => {
      t0 = Date.now();
      step0 = s.globalStep;
      if (useBar) {
        bar = new cliProgress.SingleBar(
          { format: `${label.padEnd(8)} {bar} {value}/{total} steps | loss {loss} | {speed} steps/s | eta {eta_formatted}`, stream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(s.totalSteps, s.globalStep, { loss: '-', speed: '-' });
      } else {
        const from = s.resumedFrom ? `, resumed at step ${s.globalStep}` : '';
        stream.write(`${label}: ${s.totalSteps} optimizer steps (${s.mode} mode, backend ${s.backend}${from})\n`);
      }
    },
    onStepEnd: (s) => {
      if (bar) bar.update(s.globalStep, { loss: s.loss.toFixed(4), speed: speed(s) });
      else {
        const pct = Math.floor((10 * s.globalStep) / s.totalSteps);
        if (pct !== lastPct) {
          lastPct = pct;
          stream.write(`${label}: step ${s.globalStep}/${s.totalSteps} loss ${s.loss.toFixed(4)} (${speed(s)} steps/s)\n`);
        }
      }
    },
    onEvaluate: (s, _c, metrics) => {
      const best = s.best?.step === s.globalStep ? ' (best)' : '';
      if (bar) bar.update({ loss: `- | eval ${fmtMetrics(metrics)}${best}` });
      else stream.write(`${label}: step ${s.globalStep} eval: ${fmtMetrics(metrics)}${best}\n`);
    },
    onTrainEnd: (s) => {
      stop();
      if (s.stopReason) stream.write(`${label}: stopped at step ${s.globalStep}: ${s.stopReason}\n`);
    },
    onError: stop,
  };
}

/** The progress hook driven by a distiller's telemetry events (for code that observes `events` only). */
export function attachProgress(events: DistillerEvents, label: string, stream: NodeJS.WriteStream = process.stderr, opts: { bar?: boolean } = {}): () => void {
  const h = progressHook(label, stream, opts);
  const control: Control = { stop: () => undefined, saveNow: () => undefined, evaluateNow: () => undefined };
  const s: TrainState = { globalStep: 0, totalSteps: 0, epoch: 0, mode: 'steps', loss: NaN, losses: {}, lr: 0, checkpoints: [], backend: '', startedAt: Date.now() };
  events.on('trainBegin', (i) => void h.onTrainBegin!(Object.assign(s, { totalSteps: i.totalSteps, mode: i.mode, backend: i.backend }), control));
  events.on('stepEnd', (i) => void h.onStepEnd!(Object.assign(s, i), control));
  events.on('evaluate', (e) => void h.onEvaluate!(Object.assign(s, { globalStep: e.globalStep }), control, e.metrics));
  events.on('trainEnd', () => void h.onTrainEnd!(s, control));
  events.on('error', (e) => void h.onError!(s, e));
  return () => void h.onTrainEnd!(s, control);
}
