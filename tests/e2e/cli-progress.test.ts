/** A run you can watch: the summary counts a frozen teacher, evaluations show progress, the ETA is smoothed. */
import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { DistillerEvents, initBackend } from '@distillery/core';
import { BertForSequenceClassification, bertConfig } from '@distillery/models';
import { RunProgress, StepTimer, countParams, formatDuration, formatSummary } from '@distillery/cli';

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(c, _e, cb) {
      w.text += String(c);
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('run progress and summary', () => {
  it("counts a frozen (pretrained-style) teacher's parameters; no Infinity ratio", async () => {
    await initBackend({ backend: 'cpu', logger: { info: () => {} } });
    const cfg = bertConfig({
      vocabSize: 50,
      hiddenSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 16,
      numLabels: 3,
    });
    const frozen = new BertForSequenceClassification(cfg, { trainable: false, seed: 1 });
    const trainable = new BertForSequenceClassification(cfg, { trainable: true, seed: 1 });
    expect(Object.keys(frozen.parameters())).toHaveLength(0);
    expect(countParams(frozen)).toBeGreaterThan(1000);
    expect(countParams(frozen)).toBe(countParams(trainable));
    frozen.dispose();
    trainable.dispose();
    const s = formatSummary({
      task: 't',
      backend: 'cpu',
      train: 1,
      test: 1,
      outputDir: 'o',
      teacher: { accuracy: 1, parameters: 0, source: 'x' },
      student: { accuracy: 1, parameters: 10, source: 'y' },
    });
    expect(s).not.toContain('Infinity');
  });

  it('the ETA is an exponential moving average of step time, evaluation pauses excluded', () => {
    let t = 0;
    const timer = new StepTimer(0.5, () => t);
    expect(timer.eta(10)).toBeUndefined();
    t += 1000;
    timer.step();
    expect(timer.eta(10)).toBeCloseTo(10);
    t += 60_000; // a long evaluation
    timer.pause();
    t += 3000;
    timer.step();
    expect(timer.eta(10)).toBeCloseTo(20); // 0.5·3 + 0.5·1 = 2 s/step, the pause not counted
    expect(timer.rate).toBeCloseTo(0.5);
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(65)).toBe('1:05');
  });

  it('plain-line mode: training steps, evaluation start lines and result lines', () => {
    const out = sink();
    const p = new RunProgress(out, { bar: false });
    const ev = new DistillerEvents();
    p.attach(ev, 'student');
    ev.emit('trainBegin', { totalSteps: 20, mode: 'steps', backend: 'cpu' });
    for (let s = 1; s <= 20; s++) ev.emit('stepEnd', { globalStep: s, loss: 1 / s } as never);
    const e = p.evaluation('student', 4, 'checkpoint evaluation');
    for (let i = 0; i < 4; i++) e.tick();
    e.done();
    ev.emit('evaluate', { globalStep: 20, metrics: { accuracy: 0.912 } });
    ev.emit('trainEnd', {} as never);
    p.stop();
    const lines = out.text.trim().split('\n');
    expect(lines[0]).toBe('student: 20 optimizer steps (steps mode, backend cpu)');
    expect(lines.filter((l) => /^student: step \d+\/20 loss/.test(l)).length).toBeLessThanOrEqual(11);
    expect(out.text).toContain('student: checkpoint evaluation (4 batches)');
    expect(out.text).toContain('student: step 20 eval: accuracy 91.20 %');
    expect(out.text).toMatch(/eta \d+:\d\d/);
  });
});
