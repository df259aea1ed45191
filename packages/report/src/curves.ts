/**
 * Training curves from a run's metrics.jsonl: the weighted total loss and each unweighted term per
 * optimizer step (left axis), evaluation accuracy at each evaluation (right axis).
 */
import type { TopLevelSpec } from 'vega-lite';
import { DistilleryError } from '@distillery/core';
import { renderSvg } from './render.js';

/** One point of a curve. */
export interface CurvePoint {
  step: number;
  value: number;
  /** Series name as shown in the legend. */
  term: string;
  axis: 'loss' | 'eval';
}

interface MetricsLine {
  type?: string;
  globalStep?: number;
  loss?: number;
  losses?: Record<string, number>;
  [k: string]: unknown;
}

/** Evaluation metrics plotted on the accuracy axis: any numeric key naming an accuracy or recall. */
const EVAL_KEY = /acc|recall|f1/i;

/**
 * Parse metrics.jsonl text into curve points. Loss terms whose key starts with `unweighted_` are
 * labelled "(unweighted)"; the step's `loss` is the weighted sum the optimizer minimised.
 */
export function curvePoints(metricsJsonl: string, where = 'metrics.jsonl'): CurvePoint[] {
  const out: CurvePoint[] = [];
  metricsJsonl.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: MetricsLine;
    try {
      r = JSON.parse(line) as MetricsLine;
    } catch (e) {
      throw new DistilleryError('METRICS_INVALID', `not valid JSON: ${(e as Error).message}`, {
        where: `${where}:${i + 1}`,
      });
    }
    const step = r.globalStep;
    if (typeof step !== 'number') return;
    if (r.type === 'step') {
      if (Number.isFinite(r.loss)) out.push({ step, value: r.loss!, term: 'total loss (weighted sum)', axis: 'loss' });
      for (const [k, v] of Object.entries(r.losses ?? {})) {
        if (k === 'loss' || !Number.isFinite(v)) continue;
        const name = k.startsWith('unweighted_') ? `${k.slice('unweighted_'.length)} (unweighted)` : k;
        out.push({ step, value: v, term: name, axis: 'loss' });
      }
    } else if (r.type === 'evaluate') {
      for (const [k, v] of Object.entries(r)) {
        if (k === 'globalStep' || typeof v !== 'number' || !Number.isFinite(v) || !EVAL_KEY.test(k)) continue;
        // Fractions become percentages so the right axis reads like the report table.
        out.push({ step, value: v <= 1 ? 100 * v : v, term: `eval ${k} (%, right axis)`, axis: 'eval' });
      }
    }
  });
  return out;
}

/** Options of {@link trainingCurveSpec}. */
export interface CurveOptions {
  /** @default "training loss per optimizer step" */
  title?: string;
  /** @default 640 */
  width?: number;
  /** @default 320 */
  height?: number;
}

/** vega-lite spec: loss terms on the left axis, evaluation accuracy on an independent right axis. */
export function trainingCurveSpec(points: readonly CurvePoint[], opts: CurveOptions = {}): TopLevelSpec {
  const hasEval = points.some((p) => p.axis === 'eval');
  const x = { field: 'step', type: 'quantitative', title: 'optimizer step' } as const;
  // One shared color scale over both layers gives one legend; below the plot it never clips long names.
  const color = {
    field: 'term',
    type: 'nominal',
    title: null,
    legend: { orient: 'bottom', direction: 'vertical', columns: 2, labelLimit: 0, symbolType: 'stroke' },
  } as const;
  const lossLayer = {
    transform: [{ filter: "datum.axis == 'loss'" }],
    mark: { type: 'line', strokeWidth: 1.5, clip: true },
    encoding: { x, y: { field: 'value', type: 'quantitative', title: 'loss' }, color },
  };
  const evalLayer = {
    transform: [{ filter: "datum.axis == 'eval'" }],
    mark: { type: 'line', point: true, strokeDash: [6, 3], strokeWidth: 2 },
    encoding: {
      x,
      y: {
        field: 'value',
        type: 'quantitative',
        title: 'evaluation accuracy (%)',
        axis: { orient: 'right' },
        scale: { zero: false },
      },
      color,
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title ?? 'training loss per optimizer step', anchor: 'start' },
    width: opts.width ?? 640,
    height: opts.height ?? 320,
    autosize: { type: 'pad' },
    padding: 12,
    background: 'white',
    data: { values: points as CurvePoint[] },
    layer: hasEval ? [lossLayer, evalLayer] : [lossLayer],
    ...(hasEval ? { resolve: { scale: { y: 'independent' } } } : {}),
  } as TopLevelSpec;
}

/** Render a run's metrics.jsonl as loss.svg content (undefined when it has no step lines). */
export async function trainingCurvesSvg(
  metricsJsonl: string,
  opts: CurveOptions & { where?: string } = {},
): Promise<string | undefined> {
  const points = curvePoints(metricsJsonl, opts.where);
  if (!points.some((p) => p.axis === 'loss')) return undefined;
  return renderSvg(trainingCurveSpec(points, opts));
}
