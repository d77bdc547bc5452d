import type { ClusterConfig } from "./types";

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The cluster's OpenAI base URL, as the seed design joins it: a value with a scheme is used as is; a path is
 * appended to the server URL, keeping its trailing slash exactly.
 */
export function joinBaseUrl(serverUrl: string, baseUrl: string): string {
  if (HAS_SCHEME.test(baseUrl)) return baseUrl;
  const server = serverUrl.replace(/\/+$/, "");
  return `${server}${baseUrl.startsWith("/") ? "" : "/"}${baseUrl}`;
}

/** Append a route (relative to the cluster's route prefix) to the base URL and end with "/v1". */
export function endpointUrl(cluster: ClusterConfig, route: string): string {
  const base = joinBaseUrl(cluster.openai.server_url, cluster.openai.base_url).replace(/\/+$/, "");
  const prefix = cluster.serve.route_prefix === "/" ? "" : cluster.serve.route_prefix;
  const relative = route.startsWith(prefix) ? route.slice(prefix.length) : route;
  return `${base}${relative === "/" ? "" : relative}/v1`;
}
