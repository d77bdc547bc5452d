// GET /api/serve/applications/ (ServeInstanceDetails, built with exclude_unset: any optional field may be
// absent) -> the agent's Observed. Pure; the adapter checks the shape first (isServeDetails): within it an
// absent optional field reads as "not there", never throws.
import type { Observed, ObservedApp, ObservedDeployment } from "./types";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === "string" ? v : "");

/**
 * Whether a GET body is Ray's ServeInstanceDetails: an object whose `applications` is an object of objects
 * (Ray sends `applications: {}` also when Serve is not running). Anything else — `{}` or a proxy's own JSON —
 * must never read as "Ray runs nothing": the prune and unmanaged-app guards would see nothing to protect.
 */
export function isServeDetails(body: unknown): boolean {
  return isRecord(body) && isRecord(body.applications) && Object.values(body.applications).every(isRecord);
}

export function parseServeDetails(body: unknown): Observed {
  const apps = new Map<string, ObservedApp>();
  const raw = isRecord(body) && isRecord(body.applications) ? body.applications : {};
  for (const [name, value] of Object.entries(raw)) {
    if (!isRecord(value)) continue;
    const deployments = new Map<string, ObservedDeployment>();
    if (isRecord(value.deployments)) {
      for (const [dName, d] of Object.entries(value.deployments)) {
        if (!isRecord(d)) continue;
        deployments.set(dName, { name: dName, status: text(d.status), message: text(d.message) });
      }
    }
    apps.set(name, {
      name,
      status: text(value.status),
      message: text(value.message),
      source: text(value.source) || "unknown",
      route_prefix: typeof value.route_prefix === "string" ? value.route_prefix : null,
      last_deployed_time_s:
        typeof value.last_deployed_time_s === "number" ? value.last_deployed_time_s : undefined,
      config: isRecord(value.deployed_app_config) ? value.deployed_app_config : null,
      deployments,
    });
  }
  return { apps };
}

export const emptyObserved = (): Observed => ({ apps: new Map() });
