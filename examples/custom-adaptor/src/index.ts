/**
 * Distil the CLINC150 BERT teacher into a 1-D CNN over the same token ids: logit KD (temperature
 * T) + hard labels + a pooled hidden match through a trainable linear projection. The two models
 * share nothing but the tokenizer; the adaptors (./adaptors.ts) are the whole bridge.
 * @packageDocumentation
 */
import { GeneralDistiller, createRegistry, initBackend, type TrainResult } from '@distillery/core';
import { BertForSequenceClassification } from '@distillery/models';
import { BatchIterator, encodeExamples, loadClinc150, loadTokenizer, makeBatches, shuffled } from '@distillery/data';
import { TextCnn } from './text-cnn.model.js';
import { bertPooledAdaptor, cnnAdaptor } from './adaptors.js';

export { TextCnn, type TextCnnConfig, type TextCnnOutput } from './text-cnn.model.js';
export { cnnAdaptor, bertPooledAdaptor } from './adaptors.js';

/** Options of {@link distilToCnn}. */
export interface CustomAdaptorOptions {
  teacherDir: string;
  dataDir: string;
  /** @default "runs/custom-adaptor" */
  outputDir?: string;
  /** @default 2 */
  numEpochs?: number;
  /** Steps instead of epochs (quick runs). */
  numSteps?: number;
  /** Use only N training / test examples. */
  maxExamples?: number;
  /** @default 3e-3 */
  lr?: number;
}

/** Result: training summary and the CNN's test accuracy. */
export interface CustomAdaptorResult {
  train: TrainResult;
  accuracy: number;
  parameters: number;
}

export async function distilToCnn(o: CustomAdaptorOptions): Promise<CustomAdaptorResult> {
  await initBackend();
  const teacher = await BertForSequenceClassification.fromPretrained(o.teacherDir, { trainable: false });
  const data = loadClinc150(o.dataDir);
  const tokenizer = loadTokenizer(o.teacherDir, { maxLength: 64 });
  const cut = <T>(xs: T[]) => (o.maxExamples ? shuffled(xs, 7).slice(0, o.maxExamples) : xs);
  const train = encodeExamples(cut(data.train), tokenizer, data.labels);
  const test = makeBatches(encodeExamples(cut(data.test), tokenizer, data.labels), { batchSize: 128 });
  const student = new TextCnn({ vocabSize: tokenizer.vocabSize, numLabels: data.labels.size, channels: 192 });
  const hiddenT = teacher.config.hiddenSize;
  const distiller = new GeneralDistiller({
    teacher,
    student,
    adaptorT: bertPooledAdaptor,
    adaptorS: cnnAdaptor,
    registry: await createRegistry(),
    trainingConfig: {
      ...(o.numSteps ? { numSteps: o.numSteps } : { numEpochs: o.numEpochs ?? 2 }),
      outputDir: o.outputDir ?? 'runs/custom-adaptor',
      optimizer: { type: 'adamw', lr: o.lr ?? 3e-3, weightDecay: 0.01 },
      logEvery: 10,
    },
    distillationConfig: {
      temperature: 4,
      kdLossType: 'ce',
      hardLabelWeight: 0.5,
      intermediateMatches: [
        {
          layerT: 0,
          layerS: 0,
          feature: 'pooled',
          loss: 'hidden_mse',
          weight: 1,
          proj: ['linear', student.config.channels, hiddenT],
        },
      ],
    },
  });
  distiller.events.on(
    'stepEnd',
    (s) => s.globalStep % 50 === 0 && console.log(`step ${s.globalStep}  loss ${s.loss.toFixed(4)}`, s.losses),
  );
  const result = await distiller.train({
    dataloader: new BatchIterator(train, { batchSize: 32, shuffle: true, seed: 1 }),
  });
  let ok = 0;
  let n = 0;
  for (const b of test) {
    const p = student.predict(b);
    p.forEach((y, i) => (ok += y === b.labels![i] ? 1 : 0));
    n += b.batchSize;
  }
  const parameters = Object.values(student.parameters()).reduce((s, v) => s + v.size, 0);
  distiller.dispose(); // the projection's variables
  teacher.dispose();
  student.dispose();
  return { train: result, accuracy: ok / Math.max(1, n), parameters };
}
