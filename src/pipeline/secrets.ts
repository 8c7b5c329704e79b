/** The secrets the root action (or the CLI, from the environment) hands to the stages that need them. */
export interface PipelineSecrets {
  githubToken?: string;
  registryUsername?: string;
  registryPassword?: string;
  kubeconfig?: string;
  sshKey?: string;
  /** The `notify` channels (deploy-bluegreen's input), given to the stages that tell people. */
  notify?: string;
}
