/**
 * End-to-end: the CLI's commands on real configs (a reduced copy of the embedded demo, so it runs
 * in seconds), checking outputs on disk and exit codes.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, listCheckpoints } from '@distillery/core';
import {
  defaultConfigPath,
  mlpDemoConfigPath,
  formatSummary,
  jobJsonSchema,
  loadJobConfig,
  pluginsCommand,
  runJob,
  validateCommand,
} from '@distillery/cli';

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _e, cb) {
      (w as unknown as { text: string }).text += String(chunk);
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw config JSON, patched freely (invalid values included, to test the errors)
type RawConfig = Record<string, any>;

function smallDemo(dir: string, patch: (c: RawConfig) => void = () => {}): string {
  const cfg = JSON.parse(readFileSync(mlpDemoConfigPath(), 'utf8'));
  delete cfg.$schema;
  cfg.task.data.maxExamples = 600;
  cfg.task.features = 256;
  cfg.teacher.model.hidden = [32];
  cfg.teacher.training.numEpochs = 4;
  cfg.teacher.training.optimizer.lr = 0.005;
  cfg.training.numEpochs = 2;
  cfg.training.optimizer.lr = 0.02;
  cfg.training.outputDir = join(dir, 'run');
  cfg.training.backend = 'cpu';
  patch(cfg);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

describe('distillery CLI', () => {
  it('distill: trains the teacher, distils the student, writes summary, metrics and checkpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-cli-'));
    const file = smallDemo(dir);
    const { config, text } = await loadJobConfig(file);
    const summary = await runJob(config, 'distill', {
      logger: createLogger('test', { level: 'warn' }),
      progress: false,
      configFile: file,
      configText: text,
    });
    expect(summary.teacher.accuracy).toBeGreaterThan(0.75);
    expect(summary.student!.accuracy).toBeGreaterThan(0.75); // above the ~0.7 majority-class rate
    expect(summary.student!.parameters).toBeLessThan(summary.teacher.parameters / 5);
    const out = join(dir, 'run');
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).student.accuracy).toBe(
      summary.student!.accuracy,
    );
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.some((m) => m.type === 'step' && 'unweighted_kd_loss' in m.losses)).toBe(true);
    expect(
      metrics
        .filter((m) => m.type === 'evaluate')
        .map((m) => m.accuracy)
        .at(-1),
    ).toBe(summary.student!.accuracy);
    expect(listCheckpoints(out).length).toBe(2);
    const svg = readFileSync(join(out, 'loss.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[\s\S]*<path[^>]*d="M[\s\S]*kd_loss[\s\S]*<\/svg>$/);
    expect(existsSync(join(out, 'teacher', 'loss.svg'))).toBe(true);
    expect(existsSync(join(out, 'teacher', 'metrics.jsonl'))).toBe(true);
    expect(formatSummary(summary)).toMatch(/teacher[\s\S]*student/);
  });

  it('distill with intermediate matches uses GeneralDistiller (hidden MSE through a linear projection)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-cli-'));
    const file = smallDemo(dir, (c) => {
      c.teacher.training.numEpochs = 1;
      c.training.numEpochs = 1;
      c.distillation.intermediateMatches = [
        { layerT: 0, layerS: 0, feature: 'hidden', loss: 'hidden_mse', weight: 0.5, proj: ['linear', 4, 32] },
      ];
    });
    const { config } = await loadJobConfig(file);
    const summary = await runJob(config, 'distill', {
      logger: createLogger('test', { level: 'warn' }),
      progress: false,
    });
    expect(summary.student!.source).toContain('GeneralDistiller');
    const metrics = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.find((m) => m.type === 'step').losses).toHaveProperty('unweighted_hidden_hidden_mse_0_0');
  });

  it('validate: exit 0 on the demo, 1 with a named error on a bad config', async () => {
    const ok = sink();
    expect(await validateCommand(defaultConfigPath(), ok)).toBe(0);
    expect(ok.text).toContain('valid');
    const dir = mkdtempSync(join(tmpdir(), 'distillery-cli-'));
    const bad = smallDemo(dir, (c) => (c.distillation.kdLossType = 'kll'));
    expect(await validateCommand(bad, sink())).toBe(1);
  });

  it('plugins: lists every built-in kind, as text and JSON', async () => {
    const t = sink();
    await pluginsCommand({}, t);
    for (const name of ['ce', 'kl', 'hidden_mse', 'attention_mse_sum', 'cos', 'fsp', 'linear', 'flsw', 'linear_decay'])
      expect(t.text).toContain(name);
    const j = sink();
    await pluginsCommand({ json: true }, j);
    const parsed = JSON.parse(j.text);
    expect(parsed['kd-loss'].map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['ce', 'mse', 'kl', 'bce']),
    );
  });

  it('the committed JSON Schema is current (regenerate: npm run schema)', () => {
    const file = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'schema', 'distillery.schema.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(jobJsonSchema());
  });
});
