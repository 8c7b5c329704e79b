import { inputError } from './errors.js';
/**
 * The environment of a process that runs the user's code or a dependency's (`go test`, `go list`,
 * GoReleaser `before.hooks`): built from an allow-list, never the step's whole environment. The step
 * holds every input (`INPUT_REGISTRY-PASSWORD`, `INPUT_KUBECONFIG`, a signing passphrase), the
 * runtime token that writes cache entries and artifacts (`ACTIONS_RUNTIME_TOKEN`) and often a
 * `GITHUB_TOKEN`; any package's `init` could read them. What Go, compilers, proxies, locales and
 * the runner's public context need passes (Windows' system variables included, without which Go
 * cannot run there); `pass` names more (a test's `DATABASE_URL`).
 */
const ALLOWED =
  /^(PATH|Path|SystemRoot|SYSTEMROOT|windir|COMSPEC|PATHEXT|USERPROFILE|APPDATA|LOCALAPPDATA|ProgramData|ProgramFiles|ProgramFiles\(x86\)|HOMEDRIVE|HOMEPATH|NUMBER_OF_PROCESSORS|PROCESSOR_ARCHITECTURE|OS|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|TMPDIR|TEMP|TMP|HOSTNAME|CI|GITHUB_ACTIONS|GITHUB_WORKSPACE|GITHUB_REPOSITORY|GITHUB_SHA|GITHUB_REF|GITHUB_REF_NAME|GITHUB_EVENT_NAME|GITHUB_RUN_ID|GITHUB_SERVER_URL|RUNNER_OS|RUNNER_ARCH|RUNNER_TEMP|RUNNER_TOOL_CACHE|ImageOS|ImageVersion|SOURCE_DATE_EPOCH|GO[A-Z0-9_]*|CGO_[A-Z_]+|CC|CXX|AR|PKG_CONFIG[A-Z_]*|HTTPS?_PROXY|NO_PROXY|ALL_PROXY|https?_proxy|no_proxy|all_proxy|SSL_CERT_FILE|SSL_CERT_DIR|XDG_[A-Z_]+|DOCKER_HOST)$/;

export function childEnv(
  overlay: Record<string, string | undefined> = {},
  pass: readonly string[] = [],
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const allowed = (name: string) => ALLOWED.test(name) || pass.includes(name);
  const env: Record<string, string> = {};
  for (const [k, v] of [...Object.entries(from), ...Object.entries(overlay)])
    if (v !== undefined && allowed(k)) env[k] = v;
  return env;
}

/**
 * Names of variables (never values) a user's command may see besides the allow-list: `test-env`,
 * `after-switch-env`. Inputs, runtime tokens and names that say TOKEN, PASSWORD or SECRET are refused:
 * a command that needs a secret gets it from the job's env under a name of its own, named here.
 */
export function passedNames(input: string, names: string[], example: string): string[] {
  for (const n of names)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n) || /^(INPUT_|ACTIONS_)|TOKEN|PASSWORD|SECRET/i.test(n))
      throw inputError(
        input,
        n,
        `names of variables it needs (e.g. \`${example}\`), not inputs, runtime tokens or secrets`,
        "A command that needs a secret gets it from the job's env under a name of its own, named here.",
      );
  return names;
}
