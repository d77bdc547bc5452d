// Which Ray the agent talks to (--ray-address, else the dashboard address in the commit's cluster.yaml), and
// whether that Ray passed the version check. Nothing is read from or applied to a Ray that has not.
import { checkRayVersion } from "../adapters/ray-target";
import type { Logger } from "../log";
import { redactUrl } from "../redact-url";
import type { DesiredState } from "../model/types";
import type { ServeTarget } from "../ports";

const SIMULATED = "SIMULATED: the serve-gitops Ray Serve emulator, not a Ray cluster";
export class RayGate {
  private current = "";
  private checked = "";
  private versionSeen = "";

  constructor(
    private readonly options: { readonly override?: string; readonly log: Logger },
    private target?: ServeTarget,
  ) {
    this.current = options.override ?? "";
  }

  attach(target: ServeTarget): void {
    this.target = target;
  }

  /** The dashboard address in use ("" until a commit names one): for requests only, never to be shown. */
  address(): string {
    return this.current;
  }

  get version(): string {
    return this.versionSeen;
  }

  get isChecked(): boolean {
    return this.checked !== "" && this.checked === this.current;
  }

  /** Resolve the address and check the version once per address. Throws UnsupportedRayError or RayError. */
  async ready(desired: DesiredState | undefined): Promise<boolean> {
    if (!this.options.override && desired) this.current = desired.cluster.ray.dashboard_address;
    if (!this.current) return false;
    if (this.checked === this.current) return true;
    const { ray_version, simulated } = await this.target!.version();
    checkRayVersion(ray_version);
    this.checked = this.current;
    // The emulator (x-emulator) is never shown as a cluster: its version says what it is wherever it appears.
    this.versionSeen = simulated ? `${ray_version} (${SIMULATED})` : ray_version;
    this.options.log.info({ ray: this.versionSeen, address: redactUrl(this.current) }, "Ray version checked");
    return true;
  }
}
