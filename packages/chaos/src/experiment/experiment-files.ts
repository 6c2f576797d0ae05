import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExperimentError, parseExperiment } from './parse-experiment.js';
import type { ChaosExperiment } from './experiment-types.js';

// Experiment files on disk: one, or the library folder (k8s/experiments/, one file each).

/** Reads and validates an experiment file; `-` reads standard input text given by the caller. */
export async function readExperimentFile(path: string): Promise<ChaosExperiment> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ExperimentError(path, [
      {
        path: '',
        message: code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(error)})`,
      },
    ]);
  }
  return parseExperiment(text, path);
}

export interface LibraryEntry {
  readonly file: string;
  readonly experiment: ChaosExperiment;
}

/** Every experiment of a library folder, by file name; a bad file fails the whole listing. */
export async function readLibrary(dir: string): Promise<LibraryEntry[]> {
  const names = (await readdir(dir)).filter((name) => /\.(ya?ml|json)$/.test(name)).sort();
  return Promise.all(
    names.map(async (name) => ({
      file: join(dir, name),
      experiment: await readExperimentFile(join(dir, name)),
    })),
  );
}
