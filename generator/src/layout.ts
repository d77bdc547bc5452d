import { endpointUrl } from "./openai-url";
import type { ClusterConfig } from "./types";

/** <user>-<YYYYMMDDHHMM>-<suffix>; the user id has no hyphen, so the name splits unambiguously. */
export const SERVED_NAME = /^([a-z][a-z0-9_]{0,31})-(\d{12})-([a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?)$/;

export const servedName = (user: string, timestamp: string, suffix: string): string =>
  `${user}-${timestamp}-${suffix}`;

/**
 * The deployment name we give each model. Ray's builder always prepends "LLMServer:" and derives a default
 * from model_id with "/" -> "--" and "." -> "_"; we set the same form explicitly so it never depends on Ray.
 */
export const deploymentBaseName = (served: string): string => served.replace(/\//g, "--").replace(/\./g, "_");
export const deploymentName = (served: string): string => `LLMServer:${deploymentBaseName(served)}`;

export interface Placement {
  /** Ray Serve application name. */
  readonly app: string;
  /** The application's route_prefix. */
  readonly route: string;
  /** The resolved absolute OpenAI base URL of the model. */
  readonly endpoint: string;
}

export function joinRoute(prefix: string, segment: string): string {
  return `${prefix === "/" ? "" : prefix}/${segment}`;
}

/** Where a model lands in its cluster's layout. Ray restarts every model of an application whose args change. */
export function placement(cluster: ClusterConfig, user: string, served: string): Placement {
  const { layout, application_name, route_prefix } = cluster.serve;
  const app =
    layout === "per-model"
      ? served
      : layout === "per-user"
        ? `${application_name}-${user}`
        : application_name;
  const route =
    layout === "per-model"
      ? joinRoute(route_prefix, served)
      : layout === "per-user"
        ? joinRoute(route_prefix, user)
        : route_prefix;
  return { app, route, endpoint: endpointUrl(cluster, route) };
}

/** Whether a Ray application name is one serve-gitops creates for this cluster, in any layout. */
export function isManagedAppName(cluster: ClusterConfig, name: string): boolean {
  const { application_name } = cluster.serve;
  return name === application_name || SERVED_NAME.test(name) || name.startsWith(`${application_name}-`);
}
