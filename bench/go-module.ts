import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A generated Go module for benchmarks that need real `go test` coverage of a module larger than the
 * fixtures: `files` files spread over `packages` packages, each function a mix of if/else, loops and
 * switches (about ten blocks), and a test per package that calls part of its functions with a few
 * inputs, so coverage is partial and counts vary as in real code. Deterministic (a fixed seed).
 */
export function writeGoModule(
  dir: string,
  opts: { module: string; packages: number; files: number; funcsPerFile: number },
): void {
  let seed = 20261130;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  writeFileSync(join(dir, 'go.mod'), `module ${opts.module}\n\ngo 1.22\n`);
  const perPkg = Array.from({ length: opts.packages }, () => 1);
  for (let i = opts.packages; i < opts.files; i++) perPkg[rand(opts.packages)]++;
  perPkg.forEach((files, p) => {
    const name = `p${String(p).padStart(3, '0')}`;
    const pkgDir = join(dir, 'internal', name);
    mkdirSync(pkgDir, { recursive: true });
    const called: string[] = [];
    for (let f = 0; f < files; f++) {
      const funcs: string[] = [];
      for (let k = 0; k < opts.funcsPerFile; k++) {
        const fn = `F${f}x${k}`;
        if (rand(10) < 6) called.push(fn);
        funcs.push(`// ${fn} is generated.
func ${fn}(x int) int {
	if x > ${rand(50)} {
		x -= ${1 + rand(9)}
	} else {
		x += ${1 + rand(9)}
	}
	for i := 0; i < x%${2 + rand(5)}; i++ {
		if i%2 == 0 {
			x++
		}
	}
	switch x % 3 {
	case 0:
		return x * 2
	case 1:
		return x + ${rand(7)}
	}
	return x
}
`);
      }
      writeFileSync(join(pkgDir, `file${f}.go`), `package ${name}\n\n${funcs.join('\n')}`);
    }
    const inputs = Array.from({ length: 3 }, () => rand(80)).join(', ');
    writeFileSync(
      join(pkgDir, `${name}_test.go`),
      `package ${name}\n\nimport "testing"\n\nfunc TestGenerated(t *testing.T) {\n\tfor _, x := range []int{${inputs}} {\n\t\t_ = x\n${called.map((c) => `\t\t_ = ${c}(x)\n`).join('')}\t}\n}\n`,
    );
  });
}
