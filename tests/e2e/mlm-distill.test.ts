/**
 * Issue 17, masked-LM distillation (DistilBERT's recipe) on CLINC150 texts used as unlabelled text: a tiny
 * BERT MLM teacher is trained here first, then two students with the same budget: one distilled (KD over
 * the vocabulary at masked positions + MLM loss + cosine on hidden states), one trained on the MLM loss
 * alone. The distilled student predicts masked tokens better.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import {
  BasicTrainer,
  GeneralDistiller,
  PluginRegistry,
  registerSegmentSumKernels,
  sharedPath,
  silentLogger,
  SHARED_SKIP_MESSAGE,
} from '@distillery/core';
import {
  buildWordPieceVocab,
  loadClinc150,
  maskingFromTokenizer,
  MlmBatches,
  shuffled,
  WordPieceTokenizer,
  type EncodedBatch,
} from '@distillery/data';
import { bertConfig, bertMlmAdaptor, BertForMaskedLM, makeStudentConfig } from '@distillery/models';

const shared = sharedPath('data', 'clinc150');
const tmp = () => mkdtempSync(join(tmpdir(), 'distillery-mlm-'));

/** Accuracy of argmax at the masked positions, and mean KL(teacher ‖ model) there. */
function evaluate(
  model: BertForMaskedLM,
  teacher: BertForMaskedLM,
  batches: EncodedBatch[],
): { acc: number; kl: number } {
  let right = 0,
    n = 0,
    kl = 0;
  for (const b of batches) {
    tf.tidy(() => {
      const s = model.forward(b, { training: false, outputHiddenStates: false, outputAttentions: false }).logits;
      const t = teacher.forward(b, { training: false, outputHiddenStates: false, outputAttentions: false }).logits;
      const labels = Int32Array.from(b.labels!).filter((v) => v >= 0);
      const pred = tf.argMax(s, 1).dataSync();
      labels.forEach((l, i) => (right += pred[i] === l ? 1 : 0));
      const lt = tf.logSoftmax(t);
      kl += tf.sum(tf.mul(tf.exp(lt), tf.sub(lt, tf.logSoftmax(s)))).dataSync()[0]!;
      n += labels.length;
    });
  }
  return { acc: right / n, kl: kl / n };
}

describe.skipIf(!shared)(`masked-LM distillation on CLINC150 text ${shared ? '' : SHARED_SKIP_MESSAGE}`, () => {
  let registry: PluginRegistry;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerSegmentSumKernels();
    registry = new PluginRegistry({ logger: silentLogger });
    await registry.load('@distillery/plugin-loss-kd');
    await registry.load('@distillery/plugin-loss-cosine');
  });

  it('the KD student beats a no-KD student of the same budget at masked positions', async () => {
    const data = loadClinc150(shared!);
    const texts = shuffled(
      data.train.map((e) => e.text),
      3,
    );
    const train = texts.slice(0, Number(process.env.MLM_N ?? 600));
    const held = texts.slice(5000, 5200);
    const vocab = buildWordPieceVocab(train, { maxSize: 600 });
    const tok = new WordPieceTokenizer(vocab, { maxLength: 24 });
    const masking = maskingFromTokenizer(tok);
    const trainBatches = new MlmBatches(train, tok, masking, { batchSize: 32, seed: 1 });
    const evalBatches = new MlmBatches(held, tok, masking, { batchSize: 50, seed: 99, shuffle: false }).epoch(0);
    const cfg = bertConfig({
      vocabSize: vocab.length,
      hiddenSize: 32,
      numHiddenLayers: 4,
      numAttentionHeads: 2,
      intermediateSize: 64,
      maxPositionEmbeddings: 32,
    });
    const teacher = new BertForMaskedLM(cfg, { seed: 1, dropoutSeed: 5 });
    const t0 = performance.now();
    const tSteps = Number(process.env.MLM_T ?? 40);
    await new BasicTrainer({
      student: teacher,
      adaptor: bertMlmAdaptor,
      registry: registry.child(),
      logger: silentLogger,
      trainingConfig: { numSteps: tSteps, outputDir: tmp(), ckptSteps: tSteps, optimizer: { type: 'adam', lr: 5e-3 } },
    }).train({ dataloader: trainBatches });
    const frozen = new BertForMaskedLM(
      cfg,
      { trainable: false },
      Object.fromEntries(Object.entries(teacher.weights()).map(([k, v]) => [k, tf.clone(v)])),
    );
    const tEval = evaluate(frozen, frozen, evalBatches);
    const sSteps = Number(process.env.MLM_S ?? 20);
    const studentCfg = makeStudentConfig(cfg, { numHiddenLayers: 2 });
    const training = (dir: string) => ({
      numSteps: sSteps,
      outputDir: dir,
      ckptSteps: sSteps,
      seed: 3,
      optimizer: { type: 'adam' as const, lr: 5e-3 },
    });
    // Random init for both students (initStudentFromTeacher would hand both most of the teacher's knowledge).
    const mk = () => new BertForMaskedLM(studentCfg, { seed: 7, dropoutSeed: 9 });
    const kdStudent = mk();
    const d = new GeneralDistiller({
      student: kdStudent,
      teacher: frozen,
      adaptorS: bertMlmAdaptor,
      adaptorT: bertMlmAdaptor,
      registry: registry.child(),
      logger: silentLogger,
      trainingConfig: training(tmp()),
      // DistilBERT's α_ce = 5, α_mlm = 2, α_cos = 1 (temperature 2).
      distillationConfig: {
        temperature: 2,
        kdLossType: 'ce',
        kdLossWeight: 5,
        hardLabelWeight: 2,
        intermediateMatches: [{ layerT: 4, layerS: 2, feature: 'hidden', loss: 'cos', weight: 1 }],
      },
    });
    const counts: number[] = [];
    d.events.on('stepEnd', () => counts.push(tf.memory().numTensors));
    await d.train({ dataloader: trainBatches });
    const plain = mk();
    await new BasicTrainer({
      student: plain,
      adaptor: bertMlmAdaptor,
      registry: registry.child(),
      logger: silentLogger,
      trainingConfig: training(tmp()),
    }).train({ dataloader: trainBatches });
    const kdEval = evaluate(kdStudent, frozen, evalBatches);
    const plainEval = evaluate(plain, frozen, evalBatches);
    console.log(
      `MLM: teacher acc ${tEval.acc.toFixed(3)}; KD student acc ${kdEval.acc.toFixed(3)} KL ${kdEval.kl.toFixed(3)}; no-KD acc ${plainEval.acc.toFixed(3)} KL ${plainEval.kl.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    expect(new Set(counts.slice(1)).size).toBe(1);
    // Masked-token accuracy of such tiny budgets sits near the frequent-token rate and ties often (measured:
    // 0.036 vs 0.029 at 40/20 steps, 0.063 = 0.063 at 80/30), so the robust assertion is the KL to the teacher
    // at masked positions (measured 0.084 vs 0.146, and 0.114 vs 0.250); accuracy must not be worse.
    expect(kdEval.kl).toBeLessThan(plainEval.kl * 0.8);
    expect(kdEval.acc).toBeGreaterThanOrEqual(plainEval.acc);
    for (const m of [teacher, frozen, kdStudent, plain]) m.dispose();
  }, 120_000);
});
