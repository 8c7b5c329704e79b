import { DEFAULT_TARGETS, distList } from '../go/targets.js';
import { templateFields, UNBUILT_SPEC } from '../crossbuild/build.js';
import { type GoReleaserSettings, readGoReleaserConfig, supportedTargets } from '../crossbuild/goreleaser.js';
import { renderTemplate } from '../crossbuild/template.js';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { DEFAULTS as QUALITY_DEFAULTS } from '../actions/quality-gate/defaults.js';
import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { joinInside } from '../runner/paths.js';
import { modulePathOf } from '../release/module.js';

/**
 * `go-ship init`, as `goreleaser init` is for GoReleaser: look at a Go repository and write a
 * `.go-ship.yml` and the workflows that use it. What it finds decides what it writes; each file says
 * where its values came from.
 */
export interface RepoFacts {
  dir: string;
  module: string;
  goVersion?: string;
  /** Main packages relative to the module root, `.` or `./cmd/x`. */
  mains: string[];
  /** Packages with _test.go files. */
  testedPackages: number;
  packages: number;
  dockerfile: boolean;
  /** What the Dockerfile does: builds the service (`build`), runs tests, or packages a prebuilt binary. */
  dockerfileKind?: DockerfileKind;
  /** The repository's .goreleaser.yaml as build-matrix reads it, or why build-matrix refuses it. */
  goreleaser?: GoReleaserFacts;
  goreleaserFile?: string;
  /** systemd unit files in the repository (`deploy/app.service`): the service runs on servers. */
  systemdUnits: string[];
  /** The repository's golangci-lint config, and whether it is for v1 (which golangci-lint v2 refuses). */
  golangciConfig?: { file: string; v1: boolean };
  /** Workflows of the repository's own that already release (GoReleaser, semantic-release, ...). */
  releaseWorkflows: string[];
  /** `ghcr.io/owner/repo` from a GitHub origin remote, lower case as registries require. */
  image?: string;
  defaultBranch: string;
}

export type DockerfileKind = 'build' | 'test-runner' | 'packaging' | 'other';

export interface GoReleaserFacts {
  file: string;
  /** Targets its builds make that this Go has (`go tool dist list`), in GoReleaser's spelling. */
  targets: string[];
  /** Its builds' main packages, and the binary an image should run (the first build's). */
  mains: string[];
  binary?: string;
  /** Set when build-matrix cannot use the file: the reason, as build-matrix would say it. */
  refused?: string;
}

const INIT_FILES = [
  '.go-ship.yml',
  '.github/workflows/go-ship-pr.yml',
  '.github/workflows/go-ship-coverage-comment.yml',
  '.github/workflows/go-ship-release.yml',
];

export async function inspectRepository(dir: string): Promise<RepoFacts> {
  const gomod = join(dir, 'go.mod');
  if (!existsSync(gomod))
    throw new UserError(
      `${dir} has no go.mod: go-ship init sets up a Go module's repository. Run it at the module root (--workspace DIR), or create the module first with \`go mod init <module path>\`.`,
    );
  const text = readFileSync(gomod, 'utf8');
  const module = modulePathOf(text);
  if (!module)
    throw new UserError(`${gomod} has no \`module\` line; \`go mod edit -module <path>\` adds one.`);
  const goVersion = /^go\s+(\d+\.\d+(?:\.\d+)?)/m.exec(text)?.[1];

  // The go command's own view of the packages (build constraints, testdata and vendor excluded).
  const listed = await runCommand(
    'go',
    ['list', '-e', '-f', '{{.Name}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}', './...'],
    // go's default module mode (readonly, or vendor): init never rewrites the user's go.mod or go.sum.
    { cwd: dir, env: { GOTOOLCHAIN: 'local' }, check: false },
  );
  if (listed.code !== 0 && !listed.stdout.trim())
    throw new UserError(
      `\`go list ./...\` failed in ${dir}:\n${listed.stderr.trim().split('\n').slice(0, 5).join('\n')}`,
    );
  const rows = listed.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
  const mains = rows
    .filter(([name]) => name === 'main')
    .map(([, pkgDir]) => {
      const rel = relative(dir, pkgDir).replace(/\\/g, '/');
      return rel ? `./${rel}` : '.';
    })
    .sort();

  const goreleaserFile = ['.goreleaser.yaml', '.goreleaser.yml'].find((f) => existsSync(join(dir, f)));
  const dockerfile = existsSync(join(dir, 'Dockerfile'));
  return {
    dir,
    module,
    goVersion,
    mains,
    testedPackages: rows.filter(([, , t, x]) => Number(t) + Number(x) > 0).length,
    packages: rows.length,
    dockerfile,
    dockerfileKind: dockerfile ? dockerfileKind(readFileSync(join(dir, 'Dockerfile'), 'utf8')) : undefined,
    goreleaserFile,
    goreleaser: goreleaserFile ? await goreleaserFacts(dir, goreleaserFile, module) : undefined,
    systemdUnits: systemdUnits(dir),
    golangciConfig: golangciConfig(dir),
    releaseWorkflows: releaseWorkflows(dir),
    image: await imageFromOrigin(dir),
    defaultBranch: await defaultBranch(dir),
  };
}

/**
 * The .goreleaser.yaml read by the same code build-matrix runs (so init never writes a config that
 * build-matrix refuses), its targets checked against `go tool dist list` as the build will be.
 */
async function goreleaserFacts(dir: string, file: string, module: string): Promise<GoReleaserFacts> {
  let settings: GoReleaserSettings;
  try {
    settings = readGoReleaserConfig(join(dir, file), file);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { file, targets: [], mains: [], refused: e.message };
  }
  const project = settings.projectName ?? basenameOf(module);
  let binary: string | undefined;
  try {
    binary = renderTemplate(
      `${file} builds[0].binary`,
      settings.builds[0].binary,
      templateFields({ ...UNBUILT_SPEC, project }),
    );
  } catch {
    binary = undefined; // a name that needs the target or the version: the image step asks for it
  }
  return {
    file,
    targets: supportedTargets(settings.targets, await distList()),
    mains: [...new Set(settings.builds.map((b) => b.main))],
    binary: binary && !/[/\\]/.test(binary) ? binary : undefined,
  };
}

/**
 * What a Dockerfile is for. Only one that compiles the service is the release image's recipe: a
 * test runner (`go test` as its command) or a packaging file that copies a binary built elsewhere
 * (GoReleaser's `dockers`, `COPY $TARGETPLATFORM/app`) would ship the wrong thing as `mode: dockerfile`.
 */
export function dockerfileKind(text: string): DockerfileKind {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const lastFrom = lines.map((l) => /^FROM\b/i.test(l)).lastIndexOf(true);
  const last = lines.slice(lastFrom);
  // go build itself, or a build tool in an earlier stage whose output the last stage copies
  // (go-httpbin's `RUN make build`, then `COPY --from=build .../dist/...`).
  const builds =
    lines.some((l) => /^RUN\b.*\bgo\s+(build|install)\b/i.test(l)) ||
    (lines.slice(0, lastFrom).some((l) => /^RUN\b.*\b(make|task|just|mage)\b/i.test(l)) &&
      last.some((l) => /^COPY\b.*--from=/i.test(l)));
  const command = last.filter((l) => /^(CMD|ENTRYPOINT)\b/i.test(l)).join(' ');
  if (
    /\btests?\b|\brspec\b|\bpytest\b/i.test(command) ||
    (!builds && lines.some((l) => /^RUN\b.*\bgo\s+test\b/i.test(l)))
  )
    return 'test-runner';
  if (builds) return 'build';
  // A binary copied in from the build context (GoReleaser's dockers, `COPY $TARGETPLATFORM/app`).
  const copies = lines.some((l) => /^COPY\b(?!.*--from)/i.test(l) && !/^COPY\s+(\.|\.\/)\s/i.test(l));
  return copies ? 'packaging' : 'other';
}

/** Workflows that already release this repository, which a second release process would race. */
function releaseWorkflows(dir: string): string[] {
  const folder = join(dir, '.github', 'workflows');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => /\.ya?ml$/.test(f) && !INIT_FILES.includes(`.github/workflows/${f}`))
    .filter((f) =>
      /goreleaser\/goreleaser-action|\bgoreleaser\s+release\b|semantic-release|release-please-action|go-semantic-release/.test(
        readFileSync(join(folder, f), 'utf8'),
      ),
    )
    .map((f) => `.github/workflows/${f}`)
    .sort();
}

async function imageFromOrigin(dir: string): Promise<string | undefined> {
  const r = await runCommand('git', ['remote', 'get-url', 'origin'], { cwd: dir, check: false }).catch(
    () => undefined,
  );
  const m = /github\.com[:/]([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/.exec(r?.stdout.trim() ?? '');
  return m ? `ghcr.io/${m[1]}/${m[2]}`.toLowerCase() : undefined;
}

/**
 * `*.service` files a few folders deep, outside vendor, testdata, node_modules and hidden folders:
 * how a repository says its binary runs under systemd on servers. Links are not followed.
 */
function systemdUnits(dir: string, rel = '', depth = 0): string[] {
  if (depth > 3) return [];
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isFile() && e.name.endsWith('.service')) out.push(path);
    else if (e.isDirectory() && !/^(\.|vendor$|testdata$|node_modules$)/.test(e.name))
      out.push(...systemdUnits(dir, path, depth + 1));
  }
  return out;
}

async function defaultBranch(dir: string): Promise<string> {
  const git = (args: string[]) =>
    runCommand('git', args, { cwd: dir, check: false }).then(
      (r) => (r.code === 0 ? r.stdout.trim() : ''),
      () => '',
    );
  const remoteHead = await git(['symbolic-ref', '--short', 'refs/remotes/origin/HEAD']);
  if (remoteHead) return remoteHead.replace(/^origin\//, '');
  return (await git(['symbolic-ref', '--short', 'HEAD'])) || 'main';
}

/** The files init writes, by path relative to the repository. */
export function initFiles(f: RepoFacts): { path: string; text: string }[] {
  const gr = f.goreleaser && !f.goreleaser.refused ? f.goreleaser : undefined;
  const mains = gr ? gr.mains : f.mains;
  const releasesElsewhere = f.releaseWorkflows.length > 0;
  const dockerfileNote: Record<DockerfileKind, string> = {
    build: 'a Dockerfile that builds the service (the release image is built from it)',
    'test-runner':
      'a Dockerfile that runs tests, not the service: the image is built from the release binaries instead',
    packaging:
      'a Dockerfile that copies a binary built elsewhere (GoReleaser packaging): the image is built from the release binaries instead',
    other:
      'a Dockerfile in which no build of the service was found (no go build, no build stage copied from): the image is built from the release binaries instead',
  };
  const found = [
    `module ${f.module}${f.goVersion ? ` (go ${f.goVersion})` : ''}`,
    f.mains.length
      ? `main packages ${f.mains.join(', ')}`
      : 'no main package (a library: tags and releases, no binaries)',
    `tests in ${f.testedPackages} of ${f.packages} packages`,
    f.dockerfileKind ? dockerfileNote[f.dockerfileKind] : 'no Dockerfile',
    ...(gr
      ? [
          `${gr.file}: build-matrix builds from it (main ${gr.mains.join(', ')}; ${gr.targets.length} targets: ${gr.targets.join(', ')})`,
        ]
      : f.goreleaser
        ? [`${f.goreleaser.file}, not used by build-matrix: ${f.goreleaser.refused!.split('\n')[0]}`]
        : []),
    ...(f.systemdUnits.length && f.mains.length
      ? [
          `a systemd unit (${f.systemdUnits.join(', ')}): deploying the binary to servers over SSH is offered below (deploy-bluegreen, target: hosts)`,
        ]
      : []),
    ...(releasesElsewhere
      ? [
          `a release process of its own in ${f.releaseWorkflows.join(', ')}: go-ship-release.yml is not written, so the repository keeps one way to release. Remove that workflow and run \`go-ship init --force\` to release with go-ship.`,
        ]
      : []),
  ];
  const config: string[] = [
    '# yaml-language-server: $schema=https://raw.githubusercontent.com/org/go-ship/v1/schema/go-ship.schema.json',
    '# Written by `go-ship init`. It found:',
    ...found.map((l) => `#   ${l}`),
    "# Each section holds an action's inputs; inputs given in a workflow win over this file.",
    '# Secrets (tokens, registry passwords, kubeconfigs) never go here: pass them from `secrets`.',
  ];
  if (f.mains.length) {
    config.push(
      'build-matrix:',
      ...(gr
        ? [`  goreleaser-config: ${gr.file} # its builds, targets, archive names and checksums`]
        : [
            `  targets: [${DEFAULT_TARGETS.join(', ')}]`,
            ...(mains.length === 1 && mains[0] === '.' ? [] : [`  packages: [${mains.join(', ')}]`]),
          ]),
    );
  }
  config.push(...qualityGateSection(f), 'coverage-gate:');
  if (f.testedPackages)
    config.push(
      '  # New and changed lines in a pull request must be this covered. Add threshold-total once you',
      '  # know where the total stands (the first PR comment shows it).',
      '  threshold-patch: 80',
    );
  else
    config.push(
      '  # No _test.go files yet: the gate reports 0%. Add tests, then a threshold, e.g.:',
      '  # threshold-total: 60',
      '  annotate: true',
    );
  if (f.mains.length) {
    // The binary the image runs: the GoReleaser config's first build's, else the command named after
    // the module (`.` or `cmd/<name>`), else the first main package.
    const named = basenameOf(f.module);
    const binary = gr
      ? gr.binary
      : mains.length > 1
        ? mains.includes('.')
          ? named
          : basenameOf(mains.find((m) => basenameOf(m) === named) ?? mains[0])
        : undefined;
    // Without an image name the section stays a comment: the release pushes no image until it is set.
    const section = [
      'docker-multistage:',
      `  image: ${f.image ?? 'ghcr.io/OWNER/REPO'}`,
      ...(f.dockerfileKind === 'build'
        ? ['  mode: dockerfile # the Dockerfile in this repository builds the image']
        : []),
      ...(binary && (mains.length > 1 || gr) ? [`  binary: ${binary} # the binary the image runs`] : []),
    ];
    if (f.image) config.push(...section);
    else
      config.push(
        '# No GitHub origin remote found: name the image to push one on release.',
        ...section.map((l) => `# ${l}`),
      );
  }

  if (f.mains.length && f.systemdUnits.length) {
    const app = basenameOf(f.systemdUnits[0]).replace(/@?\.service$/, '');
    // Several binaries in the archives: the servers run the one the unit is named after, if built.
    const binaries = gr
      ? gr.binary
        ? [gr.binary]
        : []
      : mains.map((m) => (m === '.' ? basenameOf(f.module) : basenameOf(m)));
    const binary = binaries.includes(app) ? app : binaries[0];
    config.push(
      `# ${f.systemdUnits[0]} runs the service under systemd: go-ship can ship build-matrix's binary to`,
      "# your servers over SSH, host by host, with two colours behind each server's nginx (or one at a",
      '# time with server-switch: restart). Name the servers, pass ssh-key and known-hosts from secrets,',
      '# then uncomment. Each colour gets PORT in its environment; a service that takes its address as',
      '# a flag gets it with args (e.g. --listen-address=127.0.0.1:${PORT}). health-path is a path it',
      '# answers 200 on.',
      '# deploy-bluegreen:',
      '#   target: hosts',
      `#   app: ${app}`,
      ...(mains.length > 1 && binary ? [`#   binary: ${binary}`] : []),
      '#   from: dist',
      '#   hosts: |',
      '#     deploy@web-1.example.com',
      '#     deploy@web-2.example.com',
      '#   batch: 1',
      '#   health-path: /healthz',
      `#   nginx-upstream-file: /etc/nginx/go-ship/${app}-upstream.conf`,
      `#   url: https://${app}.example.com`,
    );
  }

  const pr = [
    '# Written by `go-ship init`: on every pull request, go test with coverage, the coverage gate',
    '# with its sticky comment, and a build of every target. Settings come from .go-ship.yml.',
    'name: pr',
    'on:',
    '  pull_request:',
    'permissions:',
    '  contents: read',
    '  pull-requests: write # the coverage comment',
    'jobs:',
    '  go-ship:',
    '    uses: org/go-ship/.github/workflows/go-ship-pr.yml@v1',
  ];
  const comment = [
    '# Written by `go-ship init`: the coverage comment for pull requests from forks, whose token',
    '# cannot comment; it runs after the pr workflow with a token that can.',
    'name: coverage comment',
    'on:',
    '  workflow_run:',
    '    workflows: [pr]',
    '    types: [completed]',
    'jobs:',
    '  comment:',
    "    if: github.event.workflow_run.event == 'pull_request'",
    '    permissions:',
    '      actions: read',
    '      pull-requests: write',
    '    uses: org/go-ship/.github/workflows/go-ship-coverage-comment.yml@v1',
  ];
  // Both release workflows: every push to the default branch, one release at a time.
  const releaseOn = [
    'name: release',
    'on:',
    '  push:',
    `    branches: [${f.defaultBranch}]`,
    'concurrency:',
    '  group: release',
    '  cancel-in-progress: false',
    'jobs:',
  ];
  const release = f.mains.length
    ? [
        `# Written by \`go-ship init\`: every push to ${f.defaultBranch} releases: semver-tag picks the version`,
        '# from the commits, build-matrix builds the archives, docker-multistage pushes the image.',
        ...releaseOn,
        '  go-ship:',
        '    permissions:',
        '      contents: write # tags and the GitHub Release',
        '      packages: write # the image on ghcr.io',
        '      actions: read # the build shards',
        '    uses: org/go-ship/.github/workflows/go-ship-release.yml@v1',
        ...(f.image ? ['    with:', `      image: ${f.image}`] : []),
        '    secrets: inherit',
      ]
    : [
        `# Written by \`go-ship init\`: every push to ${f.defaultBranch} tags the next version of this library`,
        "# by Go's module rules and writes the GitHub Release with the changelog.",
        ...releaseOn,
        '  tag:',
        '    runs-on: ubuntu-latest',
        '    permissions:',
        '      contents: write # the tag and the GitHub Release',
        '      pull-requests: read # release:* labels',
        '    steps:',
        '      - uses: actions/checkout@v4',
        '      - uses: org/go-ship/semver-tag@v1',
        '        with:',
        "          create-release: 'true'",
      ];
  return [
    { path: INIT_FILES[0], text: `${config.join('\n')}\n` },
    { path: INIT_FILES[1], text: `${pr.join('\n')}\n` },
    { path: INIT_FILES[2], text: `${comment.join('\n')}\n` },
    ...(releasesElsewhere ? [] : [{ path: INIT_FILES[3], text: `${release.join('\n')}\n` }]),
  ];
}

function basenameOf(p: string): string {
  return p
    .replace(/\/v\d+$/, '')
    .split('/')
    .pop()!;
}

/**
 * Writes the files, all or none: an existing one stops everything unless `force`. Each is written
 * beside its place and renamed in, so an interrupted init leaves no half-written file. The checkout
 * is data: a link planted at a file's place counts as a file there (even one that points nowhere),
 * the scratch file is created new at a random name (never opened through a link), the rename
 * replaces a link rather than writing through it, and a linked folder may not lead out of `dir`.
 */
export function writeInitFiles(
  dir: string,
  files: { path: string; text: string }[],
  force: boolean,
): string[] {
  // The folder must stay inside; the file's own place is replaced by the rename, link or not.
  const targets = files.map((f) =>
    join(joinInside(dir, dirname(f.path), `go-ship init's folder for ${f.path}`), basename(f.path)),
  );
  const existing = files
    .filter((_f, i) => lstatSync(targets[i], { throwIfNoEntry: false }))
    .map((f) => f.path);
  if (existing.length && !force)
    throw new UserError(
      `go-ship init would overwrite ${existing.join(', ')}. Nothing was written. Move them aside, or run \`go-ship init --force\` to replace them.`,
    );
  files.forEach((f, i) => {
    const target = targets[i];
    mkdirSync(dirname(target), { recursive: true });
    const scratch = `${target}.go-ship-init-${randomBytes(6).toString('hex')}`;
    writeFileSync(scratch, f.text, { flag: 'wx' });
    renameSync(scratch, target);
  });
  return files.map((f) => f.path);
}

/** golangci-lint's own config at the top of the module, as golangci-lint finds it. */
function golangciConfig(dir: string): RepoFacts['golangciConfig'] {
  const file = ['.golangci.yml', '.golangci.yaml', '.golangci.toml', '.golangci.json'].find((f) =>
    existsSync(join(dir, f)),
  );
  if (!file) return undefined;
  // A v2 config says so (`version: "2"`); without it golangci-lint v2 refuses the file.
  const v2 = /^\s*"?version"?\s*[:=]\s*["']?2["']?\s*,?\s*$/m.test(readFileSync(join(dir, file), 'utf8'));
  return { file, v1: !v2 };
}

/** The lint stage's golangci-lint, pinned, so a go-ship upgrade does not change a project's findings. */
function qualityGateSection(f: RepoFacts): string[] {
  const version = QUALITY_DEFAULTS['golangci-lint-version'];
  if (f.golangciConfig?.v1)
    return [
      'quality-gate:',
      `  # ${f.golangciConfig.file} is for golangci-lint v1, which v2 refuses: run \`golangci-lint migrate\`,`,
      `  # then pin the v2 release here (e.g. ${version}). Until then the lint stage runs gofmt and go vet.`,
      '  golangci-lint-version: off',
    ];
  return [
    'quality-gate:',
    `  # The golangci-lint release the lint stage runs (built once from the Go module proxy), pinned;`,
    `  # it reads ${f.golangciConfig ? f.golangciConfig.file : 'a .golangci.yml when you add one (none yet: its default linters)'}.`,
    `  golangci-lint-version: ${version}`,
  ];
}
