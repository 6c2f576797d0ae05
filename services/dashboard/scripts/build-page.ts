// Builds the dashboard's page into dist/page/ (or the directory given): the TypeScript of
// page/ bundled and minified by esbuild into app.js, beside index.html and app.css. Run by
// `make build` (and the Dockerfile) after tsc; the dashboard serves these files itself.
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PAGE_SOURCES = fileURLToPath(new URL('../page/', import.meta.url));
const DEFAULT_PAGE_OUT = fileURLToPath(new URL('../dist/page/', import.meta.url));

/** The files the built page is made of, in `outDir`. */
export const PAGE_FILES = ['index.html', 'app.css', 'app.js'] as const;

export async function buildPage(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [`${PAGE_SOURCES}main.ts`],
    outfile: `${outDir}/app.js`,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css']) {
    await copyFile(`${PAGE_SOURCES}${file}`, `${outDir}/${file}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildPage(process.argv[2] ?? DEFAULT_PAGE_OUT);
}
