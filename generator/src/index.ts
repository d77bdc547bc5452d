// The core's public surface, for the CLI, the Action and the agent. Pure: no filesystem, git, clock or network.
export * from "./types";
export { RULES, diagnostic, hasErrors, sortDiagnostics, type RuleId } from "./rules";
export { parseYamlFile, MAX_FILE_BYTES } from "./yaml-source";
export {
  validateRepo,
  createSpecMemo,
  RollingSpecMemo,
  type ValidateOptions,
  type SpecMemo,
} from "./validate";
export { classifyPath, type PathRole } from "./paths";
export { salvageAdmins, USERS_FILE } from "./validate-config";
export { modelGpus } from "./validate-spec";
export { checkModelSource, expandMacros } from "./model-source";
export { joinBaseUrl, endpointUrl } from "./openai-url";
export { placement, isManagedAppName, deploymentName, servedName, SERVED_NAME } from "./layout";
export {
  renderFragments,
  diffRendered,
  timestampsOf,
  fragmentTimestamps,
  isRealTimestamp,
  fragmentPath,
  fragmentText,
  formatTimestamp,
  GENERATOR_VERSION,
  type RenderDiff,
  type RenderResult,
  type Timestamps,
} from "./render";
export { assemble, applicationsOf, checkServeConfig, LLM_IMPORT_PATH } from "./assemble";
export { checkRepo, isRenderCurrent, type RepoCheck, type CheckOptions } from "./pipeline";
export {
  isFragmentPath,
  notAFragment,
  otherGeneratorVersions,
  recordedGenerator,
  renderStaleDiagnostics,
  type RenderCheckInput,
} from "./render-check";
export {
  planChange,
  diffFragment,
  ALLOW_PRUNE_TRAILER,
  type AgentRefusal,
  type Plan,
  type ClusterPlan,
  type ModelChange,
} from "./plan";
export { planMarkdown, PLAN_MARKER } from "./plan-markdown";
export {
  renderCodeowners,
  codeownersOf,
  CODEOWNERS_FILE,
  CODEOWNERS_COMMAND,
  ADMIN_PATHS,
  type CodeownersResult,
} from "./codeowners";
