/**
 * Progress on long work: a live bar (cli-progress) on a terminal, and one plain line per ~10 % of
 * the steps otherwise (CI logs stay readable).
 */
import cliProgress from 'cli-progress';
import type { DistillerEvents } from '@distillery/core';

export function attachProgress(events: DistillerEvents, label: string, stream: NodeJS.WriteStream = process.stderr, opts: { bar?: boolean } = {}): () => void {
  const useBar = opts.bar ?? stream.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  let lastPct = -1;
  const t0 = Date.now();
  events.on('trainBegin', (i) => {
    total = i.totalSteps;
    if (useBar) {
      bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(8)} {bar} {value}/{total} steps | loss {loss} | {speed} steps/s | eta {eta_formatted}`, stream, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { loss: '-', speed: '-' });
    } else stream.write(`${label}: ${total} optimizer steps (${i.mode} mode, backend ${i.backend})\n`);
  });
  events.on('stepEnd', (s) => {
    const speed = (s.globalStep / ((Date.now() - t0) / 1000)).toFixed(2);
    if (bar) bar.update(s.globalStep, { loss: s.loss.toFixed(4), speed });
    else {
      const pct = Math.floor((10 * s.globalStep) / total);
      if (pct !== lastPct) {
        lastPct = pct;
        stream.write(`${label}: step ${s.globalStep}/${total} loss ${s.loss.toFixed(4)} (${speed} steps/s)\n`);
      }
    }
  });
  events.on('evaluate', (e) => {
    const text = Object.entries(e.metrics).map(([k, v]) => `${k} ${k === 'accuracy' ? (100 * v).toFixed(2) + ' %' : v.toFixed(4)}`).join(', ');
    if (bar) bar.update({ loss: `- | eval ${text}` });
    else stream.write(`${label}: step ${e.globalStep} eval: ${text}\n`);
  });
  const stop = () => bar?.stop();
  events.on('trainEnd', stop);
  events.on('error', stop);
  return stop;
}
