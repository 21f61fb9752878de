/**
 * Every rule of SPEC.md is checked by a test that says so: a test file names the rule's ID ("[E3]") in a test's
 * name or in a comment beside what checks it. A rule that no test cites, or a test that cites a rule SPEC.md does
 * not have (a typo, a rule renamed), fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SPEC = path.join(ROOT, 'shared/protocol/SPEC.md');
/** Where tests live. */
const TEST_FOLDERS = ['server', 'shared', 'web', 'e2e', 'test', 'bench'];
const CITATION = /\[([A-Z][0-9]{1,2})\]/g;

function testFiles(folder: string): string[] {
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder, { withFileTypes: true, recursive: true }).flatMap((entry) => {
    const file = path.join(entry.parentPath, entry.name);
    return entry.isFile() && /\.test\.ts$/.test(entry.name) && !file.includes(`${path.sep}node_modules${path.sep}`)
      ? [file]
      : [];
  });
}

/** Rule IDs as SPEC.md defines them: a bold "**[X1]**" opening a rule. */
function specRules(): string[] {
  return [...fs.readFileSync(SPEC, 'utf8').matchAll(/\*\*\[([A-Z][0-9]{1,2})\]\*\*/g)].map((match) => match[1]!);
}

/** Rule ID -> the test files (relative) that cite it. */
function citations(): Map<string, string[]> {
  const cited = new Map<string, string[]>();
  for (const file of TEST_FOLDERS.flatMap((folder) => testFiles(path.join(ROOT, folder)))) {
    if (file === fileURLToPath(import.meta.url)) continue; // this file names rules only as examples
    const relative = path.relative(ROOT, file);
    for (const [, id] of fs.readFileSync(file, 'utf8').matchAll(CITATION)) {
      const files = cited.get(id!) ?? [];
      if (!files.includes(relative)) files.push(relative);
      cited.set(id!, files);
    }
  }
  return cited;
}

it('finds the rules of SPEC.md (each defined once)', () => {
  const rules = specRules();
  expect(rules.length).toBeGreaterThanOrEqual(20);
  expect(new Set(rules).size).toBe(rules.length);
});

it('has a test citing every rule of SPEC.md', () => {
  const cited = citations();
  const uncited = specRules().filter((id) => !cited.has(id));
  expect(uncited, 'rules of SPEC.md that no *.test.ts names (write the test, or cite the one that checks it)').toEqual(
    [],
  );
});

it('cites no rule SPEC.md does not have', () => {
  const rules = new Set(specRules());
  const unknown = [...citations()]
    .filter(([id]) => !rules.has(id))
    .map(([id, files]) => `[${id}] in ${files.join(', ')}`);
  expect(unknown).toEqual([]);
});
