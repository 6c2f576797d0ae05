import { fileURLToPath } from 'node:url';
import type { OptionSpecs } from '../../command-line.js';

/** k8s/experiments/ of this checkout: the library (src/ and dist/ sit at the same depth). */
export const LIBRARY_DIR = fileURLToPath(
  new URL('../../../../../k8s/experiments/', import.meta.url),
);

export const RUN_OPTIONS = {
  'dry-run': { type: 'boolean', help: 'print the resolved plan and touch nothing' },
  'time-scale': {
    type: 'string',
    valueName: 'F',
    help: 'multiply every duration of the timeline by F, in (0, 1]: a short form (default 1)',
  },
  'report-dir': {
    type: 'string',
    valueName: 'DIR',
    help: 'where the report goes (default <state dir>/chaos/<experiment>-<time>)',
  },
} as const satisfies OptionSpecs;
