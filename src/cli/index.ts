import { UserError } from '../runner/errors.js';
import { main } from './main.js';

// `go-ship ... | head`: a reader that has seen enough closes the pipe; stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UserError) {
    process.stderr.write(`go-ship: ${e.message}\n`);
    process.exitCode = 2;
  } else throw e;
}
