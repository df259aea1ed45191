/**
 * The README quick start, runnable: distil the CLINC150 BERT teacher (a Hugging Face folder made
 * in PyTorch) into a 2-layer student with GeneralDistiller — KD on logits, hard labels, and
 * hidden-state and attention matches.
 */
import { GeneralDistiller, createRegistry, initBackend, type TrainResult } from '@distillery/core';
import { BertForSequenceClassification, bertAdaptor, makeStudentConfig, readHfConfig } from '@distillery/models';
import { BatchIterator, encodeExamples, loadClinc150, loadTokenizer } from '@distillery/data';

export interface QuickstartOptions {
  teacherDir: string; // e.g. ../shared/models/clinc-bert-teacher
  dataDir: string; // e.g. ../shared/data/clinc150
  outputDir?: string;
  numSteps?: number;
  maxExamples?: number;
}

export async function quickstart(o: QuickstartOptions): Promise<TrainResult> {
  await initBackend(); // fastest backend present, logged once
  const teacher = await BertForSequenceClassification.fromPretrained(o.teacherDir, { trainable: false });
  const student = new BertForSequenceClassification(
    makeStudentConfig(readHfConfig(o.teacherDir), { numHiddenLayers: 2 }),
  );

  const data = loadClinc150(o.dataDir);
  const tokenizer = loadTokenizer(o.teacherDir);
  const examples = encodeExamples(data.train.slice(0, o.maxExamples), tokenizer, data.labels);
  const train = new BatchIterator(examples, { batchSize: 32, shuffle: true, bucketPools: 8 });

  const distiller = new GeneralDistiller({
    teacher,
    student,
    adaptorT: bertAdaptor,
    adaptorS: bertAdaptor,
    registry: await createRegistry(), // built-in plugins (+ any "plugins" packages)
    trainingConfig: {
      numSteps: o.numSteps ?? 500,
      outputDir: o.outputDir ?? 'runs/quickstart',
      ckptSteps: 250,
      optimizer: { type: 'adamw', lr: 1e-4 },
    },
    distillationConfig: {
      temperature: 4,
      hardLabelWeight: 0.5,
      intermediateMatches: [
        { layerT: 4, layerS: 2, feature: 'hidden', loss: 'hidden_mse', weight: 1 },
        { layerT: 3, layerS: 1, feature: 'attention', loss: 'attention_mse', weight: 1 },
      ],
    },
  });
  distiller.events.on(
    'stepEnd',
    (s) => s.globalStep % 50 === 0 && console.log(s.globalStep, s.loss.toFixed(4), s.losses),
  );
  const result = await distiller.train({ dataloader: train });
  teacher.dispose();
  student.dispose();
  return result;
}
