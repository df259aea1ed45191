/**
 * The first-hour tour: one config holding the mistakes a new user makes, and one `validate` call that
 * reports every one of them — sorted by position, each with path, file:line:col and a fix — before any
 * data or model work (distill stops at the same point).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadJobConfig, validateCommand } from '@distillery/cli';

const root = join(import.meta.dirname, '..', '..');
const shim = join(root, 'packages', 'cli', 'bin', 'distillery.js');
const tour = join(import.meta.dirname, 'fixtures', 'first-hour', 'tour.json');

function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DISTILLERY_BACKEND: 'cpu' };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k];
  return env;
}

async function problemsOf(file: string): Promise<{ path: string; message: string; hint?: string; line?: number }[]> {
  const out = new Writable({
    write(c, _e, cb) {
      text += String(c);
      cb();
    },
  });
  let text = '';
  const err = new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });
  await validateCommand(file, out, { json: true, err });
  return JSON.parse(text).problems;
}

function writeConfig(cfg: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-validate-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

const mlpJob = (patch: Record<string, unknown> = {}) => ({
  task: { data: { type: 'spam-assassin' } },
  teacher: { model: { type: 'mlp', hidden: [16, 8] } },
  student: { model: { type: 'mlp', hidden: [4] } },
  training: { numEpochs: 1 },
  ...patch,
});

describe('validate finds every mistake at once', () => {
  it('the tour: one validate call (the real bin, --json) reports all of them, sorted by file position', () => {
    const r = spawnSync(process.execPath, [shim, 'validate', tour, '--json'], {
      cwd: tmpdir(),
      encoding: 'utf8',
      env: userEnv(),
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    const got = doc.problems.map(
      (p: { path: string; message: string; hint?: string }) => `${p.path}: ${p.message} | ${p.hint ?? ''}`,
    );
    const expected: [string, RegExp][] = [
      ['plugins[0]', /cannot load plugin package "distillery-plugin-not-installed".*\| install it/],
      ['plugins[1]', /is a URL/],
      ['task.data.train', /train file .*first-hour\/data\/train\.jsonl does not exist/],
      [
        'task.maxLength',
        /maxLength 1024 exceeds the teacher's max_position_embeddings \(512\) \| use "maxLength": 512/,
      ],
      ['teacher.model.pretrained', /has no model\.safetensors, no tokenizer/],
      ['student.model.numAttentionHeads', /hidden size 100 is not divisible by 12 attention heads \| .*5 or 10/],
      ['training.numSteps', /both numEpochs \(3\) and numSteps \(1000\) are set/],
      ['training.backend', /unknown backend "tensorflw" \| did you mean "tensorflow"/],
      ['distillation.kdLossType', /unknown kd-loss plugin "kll" \| did you mean "kl"/],
      ['distillation.intermediateMatches[0].layerT', /teacher layer 8 does not exist: .*6 layers.*hidden layers 0–6/],
      [
        'distillation.intermediateMatches[0].proj[1]',
        /projection input size 128 differs from the student's hidden size 100/,
      ],
      [
        'distillation.intermediateMatches[0].proj[2]',
        /projection output size 768 differs from the teacher's hidden size 384/,
      ],
      [
        'distillation.intermediateMatches[1].feature',
        /unknown feature "hiden" \| did you mean "hidden"\? a bert teacher provides: hidden, attention/,
      ],
    ];
    expect(got).toHaveLength(expected.length);
    expected.forEach(([path, re], i) => {
      expect(got[i]).toContain(`${path}: `);
      expect(got[i]).toMatch(re);
    });
    const lines = doc.problems.map((p: { line: number }) => p.line);
    expect(lines.every((l: number) => l > 0)).toBe(true);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
    // The human form names file:line:col for each.
    expect(r.stderr).toContain(`${tour}:20:5 training.backend`);
  });

  it('distill stops on the same problems before any data or model work', () => {
    const r = spawnSync(process.execPath, [shim, 'distill', tour, '--no-progress'], {
      encoding: 'utf8',
      env: userEnv(),
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('invalid config (13 problems)');
    expect(r.stderr).not.toMatch(/tfjs backend:|task: /);
  });

  it('an MLP has no attention: said so, and its layer range is its hidden layers', async () => {
    const file = writeConfig(
      mlpJob({
        distillation: {
          intermediateMatches: [
            { layerT: 0, layerS: 0, feature: 'attention', loss: 'attention_mse' },
            { layerT: 2, layerS: 1, feature: 'hidden', loss: 'hidden_mse', proj: ['linear', 4, 8] },
          ],
        },
      }),
    );
    const ps = await problemsOf(file);
    expect(ps.find((p) => p.path === 'distillation.intermediateMatches[0].feature')?.message).toBe(
      'the teacher (mlp, 2 hidden layers [16, 8]) has no "attention" outputs',
    );
    expect(ps.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'distillation.intermediateMatches[1].layerT',
        'distillation.intermediateMatches[1].layerS',
      ]),
    );
  });

  it('a missing model folder is reported as such (not as a missing tokenizer), once', async () => {
    const file = writeConfig({
      task: { data: { type: 'spam-assassin' } },
      teacher: { model: { type: 'bert', pretrained: 'no-such-model' } },
      student: { model: { type: 'bert', numHiddenLayers: 2 } },
      training: { numSteps: 10 },
    });
    const ps = await problemsOf(file);
    expect(ps).toHaveLength(1);
    expect(ps[0]!.path).toBe('teacher.model.pretrained');
    expect(ps[0]!.message).toMatch(/^model folder .*no-such-model does not exist$/);
  });

  it('neither numEpochs nor numSteps; both families must agree; hidden widths differ without a projection', async () => {
    const ps = await problemsOf(
      writeConfig({
        ...mlpJob({ training: {}, student: { model: { type: 'bert' } } }),
        distillation: { intermediateMatches: [{ layerT: 0, layerS: 0, feature: 'hidden', loss: 'hidden_mse' }] },
      }),
    );
    const msgs = ps.map((p) => `${p.path}: ${p.message} | ${p.hint}`);
    expect(msgs.some((m) => /^training: sets neither numEpochs nor numSteps \| add "numEpochs"/.test(m))).toBe(true);
    expect(
      msgs.some((m) => /^student\.model\.type: the teacher is a mlp model and the student a bert model/.test(m)),
    ).toBe(true);
    const narrow = await problemsOf(
      writeConfig(
        mlpJob({
          distillation: { intermediateMatches: [{ layerT: 1, layerS: 0, feature: 'hidden', loss: 'hidden_mse' }] },
        }),
      ),
    );
    expect(narrow.map((p) => p.hint)).toContain('add "proj": ["linear", 4, 8]');
  });

  it('paths resolve relative to the config file, whatever the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-paths-'));
    mkdirSync(join(dir, 'cfg', 'data'), { recursive: true });
    writeFileSync(join(dir, 'cfg', 'data', 'train.jsonl'), '{"text":"hi","label":"a"}\n{"text":"bye","label":"b"}\n');
    const file = join(dir, 'cfg', 'config.json');
    writeFileSync(
      file,
      JSON.stringify(
        mlpJob({
          task: { data: { type: 'jsonl', train: 'data/train.jsonl' } },
          training: { numEpochs: 1, outputDir: 'out' },
        }),
      ),
    );
    const { config } = await loadJobConfig(file);
    expect(config.task.data).toMatchObject({ train: join(dir, 'cfg', 'data', 'train.jsonl') });
    expect(config.training.outputDir).toBe(join(dir, 'cfg', 'out'));
  });

  it('an unknown key where no key is valid gets a real hint, not "(valid keys: )"', async () => {
    const file = writeConfig(mlpJob({ task: { data: { type: 'spam-assassin', zzzzzzzzzzzz: 1 } } }));
    const ps = await problemsOf(file);
    expect(ps[0]!.hint).toBe(
      'valid keys: type, testFraction, validationFraction, maxExamples, extendLabels, unseenTestLabels',
    );
    expect(JSON.stringify(ps)).not.toContain('valid keys: )');
  });
});
