import { UserError } from '../runner/errors.js';
import { main } from './main.js';

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UserError) {
    process.stderr.write(`go-ship: ${e.message}\n`);
    process.exitCode = 2;
  } else throw e;
}
