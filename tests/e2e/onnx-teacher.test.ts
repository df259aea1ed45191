/**
 * Issue 11's ONNX Runtime teacher from a job config: the PyTorch-made CLINC150 model.onnx teaches a
 * small tfjs BERT student through runJob (hidden-state match included); its accuracy equals the
 * tfjs load of the same teacher.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { Writable } from 'node:stream';
import { exportCommand, loadJobConfig, runJob } from '@distillery/cli';

const data = sharedPath('data', 'clinc150');
const teacher = sharedPath('models', 'clinc-bert-teacher');

describe.skipIf(!data || !teacher)(
  `ONNX teacher from a job config ${data && teacher ? '' : SHARED_SKIP_MESSAGE}`,
  () => {
    it('distils a BERT student from model.onnx; teacher accuracy equals the tfjs teacher', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'distillery-onnx-teacher-'));
      const job = (teacherModel: object, outputDir: string) => ({
        task: { data: { type: 'clinc150', dir: data, maxExamples: 256 }, batchSize: 32, maxLength: 64 },
        teacher: { model: teacherModel },
        student: {
          model: { type: 'bert', numHiddenLayers: 1, hiddenSize: 32, numAttentionHeads: 2, intermediateSize: 64 },
        },
        training: { numSteps: 6, outputDir, optimizer: { type: 'adamw', lr: 0.001 } },
        distillation: {
          temperature: 4,
          hardLabelWeight: 0.5,
          intermediateMatches: [
            { layerT: 4, layerS: 1, feature: 'hidden', loss: 'hidden_mse', weight: 1, proj: ['linear', 32, 256] },
          ],
        },
      });
      const run = async (cfg: object, mode: 'train' | 'distill', name: string) => {
        const file = join(dir, `${name}.json`);
        writeFileSync(file, JSON.stringify(cfg, null, 2));
        const { config } = await loadJobConfig(file);
        return runJob(config, mode, { logger: createLogger('test', { level: 'warn' }), progress: false });
      };
      const onnxCfg = job({ type: 'onnx', path: join(teacher!, 'model.onnx'), intraOpThreads: 1 }, join(dir, 'onnx'));
      const s = await run(onnxCfg, 'distill', 'onnx');
      expect(s.teacher.source).toContain('ONNX');
      expect(s.teacher.accuracy).toBeGreaterThan(0.6);
      expect(s.student!.source).toContain('GeneralDistiller');
      const steps = readFileSync(join(dir, 'onnx', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((m) => m.type === 'step');
      expect(steps).toHaveLength(6);
      for (const st of steps) {
        expect(st.losses.unweighted_kd_loss).toBeGreaterThan(0);
        expect(Number.isFinite(st.losses.unweighted_hidden_hidden_mse_1_4)).toBe(true);
      }
      const tfjs = await run(job({ type: 'bert', pretrained: teacher }, join(dir, 'tfjs')), 'train', 'tfjs');
      expect(s.teacher.accuracy).toBe(tfjs.teacher.accuracy);
    });

    it('an ONNX student and a wrong output name are refused clearly', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'distillery-onnx-bad-'));
      const base = {
        task: { data: { type: 'clinc150', dir: data, maxExamples: 64 }, batchSize: 32 },
        training: { numSteps: 1, outputDir: join(dir, 'run') },
        distillation: { temperature: 4 },
      };
      const file = join(dir, 'bad.json');
      writeFileSync(
        file,
        JSON.stringify({
          ...base,
          teacher: { model: { type: 'onnx', path: join(teacher!, 'model.onnx'), outputs: { logits: 'logit' } } },
          student: { model: { type: 'bert', numHiddenLayers: 1 } },
        }),
      );
      const { config } = await loadJobConfig(file);
      await expect(
        runJob(config, 'distill', { logger: createLogger('test', { level: 'warn' }), progress: false }),
      ).rejects.toThrow(/outputs\.logits: the graph has no output "logit"[\s\S]*outputs are logits/);
      writeFileSync(
        file,
        JSON.stringify({
          ...base,
          teacher: { model: { type: 'bert', pretrained: teacher } },
          student: { model: { type: 'onnx', path: join(teacher!, 'model.onnx') } },
        }),
      );
      const { config: c2 } = await loadJobConfig(file);
      await expect(
        runJob(c2, 'distill', { logger: createLogger('test', { level: 'warn' }), progress: false }),
      ).rejects.toThrow(/can only be the teacher/);
      // A logits-only export cannot feed a hidden-state match.
      await exportCommand({
        model: teacher!,
        out: join(dir, 'logits-only.onnx'),
        noValidate: true,
        stream: new Writable({ write: (_c, _e, cb) => cb() }),
      });
      writeFileSync(
        file,
        JSON.stringify({
          ...base,
          distillation: {
            temperature: 4,
            intermediateMatches: [
              { layerT: 4, layerS: 1, feature: 'hidden', loss: 'hidden_mse', weight: 1, proj: ['linear', 256, 256] },
            ],
          },
          teacher: { model: { type: 'onnx', path: join(dir, 'logits-only.onnx'), tokenizer: teacher } },
          student: { model: { type: 'bert', numHiddenLayers: 1 } },
        }),
      );
      const { config: c3 } = await loadJobConfig(file);
      await expect(
        runJob(c3, 'distill', { logger: createLogger('test', { level: 'warn' }), progress: false }),
      ).rejects.toThrow(/read the teacher's hidden states, but the graph outputs none[\s\S]*--hidden-states/);
    });
  },
);
