/**
 * The CLINC150 compression workflow, end to end: see ./workflow.ts and the README.
 * @packageDocumentation
 */
export { runWorkflow, writeWorkflowConfig, type WorkflowOptions, type WorkflowResult } from './workflow.js';
export { exportStudent } from './export.js';
