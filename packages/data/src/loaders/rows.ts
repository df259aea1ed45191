/**
 * Shared row handling for the file loaders: turn a record into an {@link Example} or a precise error.
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';
import type { Example, LoadedDataset } from '../types.js';

/** Options common to all file loaders. */
export interface LoaderOptions {
  /** Field/column holding the text (default `text`). */
  textField?: string;
  /** Field/column holding the label (default `label`); rows without it are an error unless `labelOptional`. */
  labelField?: string;
  /** Allow rows without a label (unlabelled data for distillation). Default false. */
  labelOptional?: boolean;
  /** Skip bad rows instead of throwing; they are counted in `dropped`. Default false. */
  dropInvalid?: boolean;
  /**
   * The files' text encoding (a WHATWG label such as `latin1`). Unset: strict UTF-8, where an invalid
   * byte is an error naming `file:line`.
   * @default undefined (UTF-8)
   */
  encoding?: string;
}

/** Where each loaded example came from (`file:line`); a side table so examples stay plain `{text, label}`. */
const origins = new WeakMap<Example, string>();

/** `file:line` (or `file:[key][i]`) of the row an example was loaded from, when a loader made it. */
export function whereOf(example: Example): string | undefined {
  return origins.get(example);
}

/** Record where an example came from (loaders call this; see {@link whereOf}). */
export function setWhere(example: Example, where: string): Example {
  origins.set(example, where);
  return example;
}

/** Collects examples, throwing or counting bad rows. */
export class RowCollector {
  readonly examples: Example[] = [];
  dropped = 0;
  readonly droppedReasons: string[] = [];

  constructor(
    readonly file: string,
    private readonly opts: LoaderOptions,
  ) {}

  /** Report a bad row: throws `DATA_INVALID` at `file:line`, or counts it when `dropInvalid`. */
  fail(line: number | string, message: string, hint?: string): void {
    const where = `${this.file}:${line}`;
    if (!this.opts.dropInvalid)
      throw new DistilleryError('DATA_INVALID', message, {
        where,
        hint: hint ?? 'fix the row, or pass dropInvalid: true to skip bad rows (they are counted)',
      });
    this.dropped++;
    if (this.droppedReasons.length < 100) this.droppedReasons.push(`${where}: ${message}`);
  }

  /** Add a row given its text and label values (any JSON value; validated here). */
  add(line: number | string, text: unknown, label: unknown): void {
    const tf = this.opts.textField ?? 'text';
    const lf = this.opts.labelField ?? 'label';
    if (typeof text !== 'string')
      return this.fail(
        line,
        text === undefined ? `missing field "${tf}"` : `field "${tf}" must be a string, got ${JSON.stringify(text)}`,
      );
    if (text.trim() === '') return this.fail(line, `empty text in field "${tf}"`);
    if (label === undefined || label === null || label === '') {
      if (this.opts.labelOptional) return void this.examples.push(setWhere({ text }, `${this.file}:${line}`));
      return this.fail(line, `missing label (field "${lf}")`, 'pass labelOptional: true for unlabelled data');
    }
    if (typeof label !== 'string' && typeof label !== 'number')
      return this.fail(line, `label must be a string or number, got ${JSON.stringify(label)}`);
    this.examples.push(setWhere({ text, label: String(label) }, `${this.file}:${line}`));
  }

  result(): LoadedDataset {
    return { examples: this.examples, dropped: this.dropped, droppedReasons: this.droppedReasons, file: this.file };
  }
}
