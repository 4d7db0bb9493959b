// ctest entry point: runs one test file with node's test runner, or exits 77 (ctest's SKIP code
// for these tests) with the reason when what it needs is not installed here. scripts/setup
// installs both (npm ci here; Debian's chromium).
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const SKIP = 77;
const here = dirname(fileURLToPath(import.meta.url));
const [file, ...needs] = process.argv.slice(2);

for (const need of needs) {
  if (need === 'chromium') {
    const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
    if (!existsSync(chromium)) {
      console.log(`SKIP ${file}: no Chromium at ${chromium} (apt-get install chromium, or run scripts/setup)`);
      process.exit(SKIP);
    }
  } else if (!existsSync(join(here, 'node_modules', need, 'package.json'))) {
    console.log(`SKIP ${file}: npm package ${need} is not installed (run scripts/setup, or npm ci in tests/clients)`);
    process.exit(SKIP);
  }
}
const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', join(here, file)],
                      {stdio: 'inherit', cwd: here});
process.exit(run.status ?? 1);
