/**
 * Tests of the Ray Serve dashboard emulator's HTTP surface (TEST/DEMO ONLY emulator): version,
 * auth, browser blocking, schema validation (400), fault injection, routing, empty shape.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment,
   @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return
   -- these tests inspect untyped JSON bodies (the emulator's GET output) */
import { afterEach, describe, expect, it } from "vitest";
import { type RayEmulator, startRayEmulator } from "./ray-dashboard";
import { getApps, httpRequest, llmApp, llmConfig, putApps, waitFor } from "./ray-test-utils";

let emu: RayEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});
const start = async (o: Parameters<typeof startRayEmulator>[0] = {}) =>
  (emu = await startRayEmulator({ deployDelayMs: 20, ...o }));
const app = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  route_prefix: `/${name}`,
  import_path: "ray.serve.llm:build_openai_app",
  args: { llm_configs: [llmConfig(name)] },
  ...extra,
});

describe("ray dashboard emulator: HTTP surface", () => {
  it("serves /api/ray/version and marks every response as emulated", async () => {
    const e = await start({ rayVersion: "2.49.1" });
    expect(e.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${e.url}/api/ray/version`);
    expect(r.status).toBe(200);
    expect(r.headers.get("x-emulator")).toBe("ray-serve-dashboard-emulator");
    const v = (await r.json()) as Record<string, string>;
    expect(Object.keys(v).sort()).toEqual(["ray_commit", "ray_version", "session_name", "version"]);
    expect(v).toMatchObject({ version: "4", ray_version: "2.49.1" });
    expect((await httpRequest("GET", `${e.url}/nope`)).headers["x-emulator"]).toBe(
      "ray-serve-dashboard-emulator",
    );
    expect(
      (
        await startRayEmulator().then(async (x) => {
          const b = (await (await fetch(`${x.url}/api/ray/version`)).json()) as { ray_version: string };
          await x.close();
          return b;
        })
      ).ray_version,
    ).toBe("2.52.0");
  });

  it("returns Ray's exact empty-instance shape before any PUT and after DELETE", async () => {
    const e = await start();
    const empty = {
      deploy_mode: "MULTI_APP",
      controller_info: {},
      proxies: {},
      applications: {},
      target_capacity: null,
    };
    expect(await getApps(e.url)).toEqual(empty);
    expect((await putApps(e.url, { applications: [app("a")] })).status).toBe(200);
    await waitFor(async () => (await getApps(e.url)).applications.a?.status === "RUNNING");
    const del = await httpRequest("DELETE", `${e.url}/api/serve/applications/`);
    expect([del.status, del.body]).toEqual([200, ""]);
    expect(await getApps(e.url)).toEqual(empty);
  });

  it("refuses a PUT made with the global fetch (it sends sec-fetch-mode) but accepts node:http", async () => {
    const e = await start();
    const body = JSON.stringify({ applications: [] });
    const viaFetch = await fetch(`${e.url}/api/serve/applications/`, {
      method: "PUT",
      body,
      headers: { "content-type": "application/json" },
    });
    expect(viaFetch.status).toBe(405);
    expect(await viaFetch.text()).toBe("'PUT' method not allowed for browser traffic.");
    const viaHttp = await putApps(e.url, { applications: [] });
    expect([viaHttp.status, viaHttp.body]).toEqual([200, ""]);
    expect(e.requests.find((r) => r.method === "PUT")?.headers["sec-fetch-mode"]).toBe("cors");
    expect([e.putCount(), e.acceptedPutCount()]).toEqual([2, 1]);
    // GET is allowed for browsers
    expect((await fetch(`${e.url}/api/serve/applications/`)).status).toBe(200);
    // Source: ray-project/ray python/ray/_private/browser_request_middleware.py @58fb3f05 (is_browser_request:
    // UA "Mozilla", Referer, Origin, Sec-Fetch-Mode/-Dest/-Site/-User, Access-Control-Request-Method/-Headers;
    // a method outside allowed_methods gets 405 "'<M>' method not allowed for browser traffic.") and
    // ray-project/ray#60526 (CVE-2026-27482: the dashboard allows browsers GET/HEAD/OPTIONS only, so DELETE too).
    for (const h of [
      { "user-agent": "Mozilla/5.0" },
      { origin: "http://x" },
      { referer: "http://x" },
      { "sec-fetch-site": "same-origin" },
      { "access-control-request-method": "PUT" },
    ] as Record<string, string>[])
      expect((await putApps(e.url, { applications: [] }, h)).status).toBe(405);
    expect(
      (await httpRequest("DELETE", `${e.url}/api/serve/applications/`, undefined, { origin: "http://x" }))
        .status,
    ).toBe(405);
  });

  it("implements RAY_AUTH_MODE=token: 401 missing, 403 wrong, Authorization before X-Ray-Authorization", async () => {
    // Source: ray-project/ray python/ray/_private/authentication/http_token_authentication.py @39f042f7
    // (Authorization, else X-Ray-Authorization, else cookie ray-authentication-token; 401 missing, 403 invalid)
    // and authentication_constants.py @9b51f681 (RAY_AUTHORIZATION_HEADER_NAME = "x-ray-authorization").
    const e = await start({ token: "s3cret" });
    const get = (h: Record<string, string>) =>
      httpRequest("GET", `${e.url}/api/serve/applications/`, undefined, h);
    expect(await get({})).toMatchObject({ status: 401, body: "Unauthorized: Missing authentication token" });
    expect(await get({ authorization: "Bearer nope" })).toMatchObject({
      status: 403,
      body: "Forbidden: Invalid authentication token",
    });
    expect((await get({ authorization: "s3cret" })).status).toBe(403);
    expect((await get({ authorization: "Bearer s3cret" })).status).toBe(200);
    expect((await get({ "x-ray-authorization": "Bearer s3cret" })).status).toBe(200);
    expect((await get({ cookie: "ray-authentication-token=s3cret" })).status).toBe(200);
    expect((await get({ authorization: "Bearer nope", "x-ray-authorization": "Bearer s3cret" })).status).toBe(
      403,
    );
    expect((await httpRequest("GET", `${e.url}/api/ray/version`)).status).toBe(401);
    // auth runs before the browser check
    expect((await putApps(e.url, { applications: [] }, { origin: "http://x" })).status).toBe(401);
    expect(
      (await putApps(e.url, { applications: [] }, { "x-ray-authorization": "Bearer s3cret" })).status,
    ).toBe(200);
  });

  it("rejects invalid configs with 400 and a pydantic v1 repr body, like ServeDeploySchema", async () => {
    const e = await start();
    const bad = async (cfg: unknown) => {
      const r = await putApps(e.url, cfg);
      expect(r.status).toBe(400);
      expect(r.body.startsWith("ValidationError(model='ServeDeploySchema', errors=[")).toBe(true);
      return r.body;
    };
    expect(await bad({ applications: [app("a"), app("a", { route_prefix: "/b" })] })).toBe(
      // the root validator nested_host_and_port is not skip_on_failure, so pydantic v1 runs it
      // without `applications` and reports its TypeError as well
      "ValidationError(model='ServeDeploySchema', errors=[{'loc': ('applications',), 'msg': 'Found multiple configs for application \"a\". Please remove all duplicates.', 'type': 'value_error'}, " +
        "{'loc': ('__root__',), 'msg': \"'NoneType' object is not iterable\", 'type': 'type_error'}])",
    );
    expect(await bad({ applications: [app("a"), app("b", { route_prefix: "/a" })] })).toContain(
      // repr() of a str holding both quote kinds escapes the single quote
      `'msg': 'Found duplicate applications for route prefix "/a". Please ensure each application\\'s route_prefix is unique.'`,
    );
    // null route prefixes may repeat
    expect(
      (
        await putApps(e.url, {
          applications: [app("a", { route_prefix: null }), app("b", { route_prefix: null })],
        })
      ).status,
    ).toBe(200);
    expect(await bad({ applications: [app("")] })).toContain("Application names must be nonempty.");
    expect(await bad({})).toBe(
      "ValidationError(model='ServeDeploySchema', errors=[{'loc': ('applications',), 'msg': 'field required', 'type': 'value_error.missing'}, {'loc': ('__root__',), 'msg': \"'NoneType' object is not iterable\", 'type': 'type_error'}])",
    );
    expect(await bad({ applications: {} })).toContain("'msg': 'value is not a valid list'");
    expect(await bad({ applications: [{ name: "a" }] })).toContain(
      "{'loc': ('applications', 0, 'import_path'), 'msg': 'field required', 'type': 'value_error.missing'}",
    );
    expect(await bad({ applications: [app("a", { import_path: "nocolon" })] })).toContain(
      "An import path must contain at least on dot or colon",
    );
    expect(await bad({ applications: [app("a", { import_path: "a:b:c" })] })).toContain(
      "An import path may have at most one colon.",
    );
    expect(await bad({ applications: [app("a", { port: 8001 })] })).toContain(
      "Port 8001 is set in the config for application `a`.",
    );
    expect(await bad({ applications: [app("a", { host: "1.2.3.4" })] })).toContain(
      'Host "1.2.3.4" is set in the config for application `a`.',
    );
    const dep = (d: Record<string, unknown>) => ({ applications: [app("a", { deployments: [d] })] });
    expect(await bad(dep({ num_replicas: 2 }))).toContain(
      "{'loc': ('applications', 0, 'deployments', 0, 'name'), 'msg': 'field required', 'type': 'value_error.missing'}",
    );
    expect(
      await bad(dep({ name: "LLMServer:a", num_replicas: 2, autoscaling_config: { min_replicas: 1 } })),
    ).toContain(
      "{'loc': ('applications', 0, 'deployments', 0, '__root__'), 'msg': 'Manually setting num_replicas is not allowed when autoscaling_config is provided.', 'type': 'value_error'}",
    );
    expect(await bad(dep({ name: "LLMServer:a", num_replicas: 0 }))).toContain(
      '`num_replicas` must be an int or "auto", but got: 0',
    );
    expect(await bad(dep({ name: "LLMServer:a", num_replicas: "lots" }))).toContain("but got: lots");
    expect(await bad(dep({ name: "LLMServer:a", max_ongoing_requests: 0 }))).toContain(
      "'msg': 'ensure this value is greater than 0', 'type': 'value_error.number.not_gt', 'ctx': {'limit_value': 0}",
    );
    expect(await bad({ applications: [], target_capacity: 101 })).toContain(
      "ensure this value is less than or equal to 100",
    );
    expect(await bad({ applications: [], proxy_location: "Everywhere" })).toContain(
      "value is not a valid enumeration member; permitted: 'Disabled', 'HeadOnly', 'EveryNode'",
    );
    expect(await bad({ applications: [app("a", { runtime_env: { working_dir: "./src" } })] })).toContain(
      "support only remote URIs",
    );
    expect(e.acceptedPutCount()).toBe(1);
  });

  it("rejects the rest of what ServeDeploySchema rejects: import path ends, LoggingConfig extras, deployment combinations", async () => {
    const e = await start();
    const bad = async (cfg: unknown) => {
      const r = await putApps(e.url, cfg);
      expect(r.status).toBe(400);
      return r.body;
    };
    for (const path of [":build", "module:"])
      expect(await bad({ applications: [app("a", { import_path: path })] })).toContain(
        `Got invalid import path "${path}". An import path may not start or end with a colon.`,
      );
    for (const path of [".app", "module."])
      expect(await bad({ applications: [app("a", { import_path: path })] })).toContain(
        `Got invalid import path "${path}". An import path may not start or end with a dot.`,
      );
    // LoggingConfig is the one model with extra=forbid.
    expect(
      await bad({ applications: [app("a", { logging_config: { log_level: "INFO", colour: 1 } })] }),
    ).toContain(
      "{'loc': ('applications', 0, 'logging_config', 'colour'), 'msg': 'extra fields not permitted', 'type': 'value_error.extra'}",
    );
    const dep = (d: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      applications: [app("a", { deployments: [{ name: "LLMServer:a", ...d }], ...extra })],
    });
    expect(await bad(dep({ max_replicas_per_node: 1, placement_group_bundles: [{ GPU: 1 }] }))).toContain(
      "Setting max_replicas_per_node is not allowed when placement_group_bundles is provided.",
    );
    for (const q of [0, -2])
      expect(await bad(dep({ max_queued_requests: q }))).toContain(
        "max_queued_requests must be -1 (no limit) or a positive integer.",
      );
    expect(await bad(dep({ num_replicas: "auto" }, { external_scaler_enabled: true }))).toContain(
      'external_scaler_enabled is set to True, but the following deployment(s) have autoscaling configured: "LLMServer:a".',
    );
    // Each alone is fine.
    const fine = [
      dep({ max_replicas_per_node: 1 }),
      dep({ max_queued_requests: -1 }),
      dep({ num_replicas: 2 }, { external_scaler_enabled: true }),
      { applications: [app("a", { import_path: "module.app", logging_config: { log_level: "INFO" } })] },
    ];
    for (const cfg of fine) expect((await putApps(e.url, cfg)).status).toBe(200);
  });

  it('accepts num_replicas "auto" with autoscaling_config and silently ignores unknown keys', async () => {
    const e = await start();
    const a = {
      ...app("a", {
        deployments: [
          {
            name: "LLMServer:a",
            num_replicas: "auto",
            autoscaling_config: { min_replicas: 1, max_replicas: 3 },
            bogus: 1,
          },
        ],
      }),
      colour: "red",
    };
    const r = await putApps(e.url, {
      applications: [a],
      unknown_top_level: true,
      http_options: { port: 8000, nonsense: 1 },
    });
    expect([r.status, r.body]).toEqual([200, ""]);
    const got = (await getApps(e.url)).applications.a.deployed_app_config;
    expect(got).toEqual({
      name: "a",
      route_prefix: "/a",
      import_path: "ray.serve.llm:build_openai_app",
      args: a.args,
      deployments: [
        {
          name: "LLMServer:a",
          num_replicas: "auto",
          autoscaling_config: { min_replicas: 1, max_replicas: 3 },
        },
      ],
    });
  });

  it("coerces and rejects values like pydantic v1 (Dict[str, float], float(), int(), dict())", async () => {
    // schema.py DeploymentSchema: placement_group_bundles List[Dict[str, float]], health_check_period_s
    // float (pydantic v1 float_validator = Python float(v)), user_config Optional[Dict] and
    // ServeApplicationSchema.args Dict (dict_validator = dict(v)), max_replicas_per_node int (int(v)).
    const e = await start();
    const dep = (d: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      applications: [app("a", { deployments: [{ name: "LLMServer:a", ...d }], ...extra })],
    });
    const put = (cfg: unknown) => putApps(e.url, cfg);
    const r1 = await put(dep({ placement_group_bundles: [{ GPU: "x" }] }));
    expect(r1.status).toBe(400);
    expect(r1.body).toContain(
      "{'loc': ('applications', 0, 'deployments', 0, 'placement_group_bundles', 0, 'GPU'), 'msg': 'value is not a valid float', 'type': 'type_error.float'}",
    );
    const r2 = await put(dep({ health_check_period_s: "0x10" }));
    expect(r2.status).toBe(400);
    expect(r2.body).toContain(
      "{'loc': ('applications', 0, 'deployments', 0, 'health_check_period_s'), 'msg': 'value is not a valid float', 'type': 'type_error.float'}",
    );
    for (const v of ["0b1", "1e", "", "1__0", "Infinit"])
      expect((await put(dep({ graceful_shutdown_timeout_s: v }))).status, v).toBe(400);
    // Python float() accepts these
    for (const v of ["inf", " +0.5e1 ", "1_0.5", "INFINITY", ".5", "5."])
      expect((await put(dep({ graceful_shutdown_timeout_s: v }))).status, v).toBe(200);
    expect((await put(dep({ health_check_period_s: "nan" }))).body).toContain(
      "ensure this value is greater than 0",
    );
    // int(): "1_000" -> 1000, 2.9 -> 2; dict(): [] and "" -> {}, a list of pairs -> dict
    const ok = await put(
      dep(
        {
          placement_group_bundles: [{ GPU: "1", CPU: 2 }],
          user_config: [["k", 1], "ab"],
          max_ongoing_requests: "1_000",
        },
        { args: { llm_configs: [llmConfig("a")] }, runtime_env: "" },
      ),
    );
    expect([ok.status, ok.body]).toEqual([200, ""]);
    const got = (await getApps(e.url)).applications.a.deployed_app_config;
    expect(got.runtime_env).toEqual({});
    expect(got.deployments[0]).toMatchObject({
      placement_group_bundles: [{ GPU: 1, CPU: 2 }],
      user_config: { k: 1, a: "b" },
      max_ongoing_requests: 1000,
    });
    expect((await put(dep({ max_replicas_per_node: 2.9 }))).status).toBe(200);
    expect(
      (await getApps(e.url)).applications.a.deployed_app_config.deployments[0].max_replicas_per_node,
    ).toBe(2);
    expect((await put(dep({ user_config: [] }))).status).toBe(200);
    expect((await getApps(e.url)).applications.a.deployed_app_config.deployments[0].user_config).toEqual({});
    for (const v of ["abc", [1], [["a", 1, 2]], 5])
      expect((await put(dep({ user_config: v }))).body, JSON.stringify(v)).toContain(
        "'msg': 'value is not a valid dict', 'type': 'type_error.dict'",
      );
  });

  it("returns 500 with a traceback for a body that is not JSON", async () => {
    const e = await start();
    const r = await httpRequest("PUT", `${e.url}/api/serve/applications/`, "{nope");
    expect(r.status).toBe(500);
    expect(r.body.split("\n")[0]).toBe("Traceback (most recent call last):");
    expect(r.body).toContain("JSONDecodeError");
  });

  it("filters by api_type and rejects other values with 400", async () => {
    const e = await start();
    await putApps(e.url, { applications: [app("decl")] });
    e.addImperativeApp("imp");
    const q = (t: string) => httpRequest("GET", `${e.url}/api/serve/applications/?api_type=${t}`);
    expect(Object.keys(JSON.parse((await q("declarative")).body).applications)).toEqual(["decl"]);
    expect(Object.keys(JSON.parse((await q("IMPERATIVE")).body).applications)).toEqual(["imp"]);
    expect(Object.keys(JSON.parse((await q("")).body).applications).sort()).toEqual(["decl", "imp"]);
    expect(await q("unknown")).toMatchObject({
      status: 400,
      body: "Invalid 'api_type' value: 'unknown'. Must be one of: imperative, declarative",
    });
  });

  it("answers a GET 503 (a PUT 500) while the controller is down, and injects failures and latency", async () => {
    const e = await start();
    e.setControllerDown(true);
    const get = await httpRequest("GET", `${e.url}/api/serve/applications/`);
    expect(get.status).toBe(503);
    expect(get.body).toContain("Failed to get a response from the controller");
    const put = await putApps(e.url, { applications: [] });
    expect(put.status).toBe(500);
    expect(put.body).toContain("the Serve controller is unavailable");
    expect((await httpRequest("GET", `${e.url}/api/ray/version`)).status).toBe(200);
    e.setControllerDown(false);
    expect((await httpRequest("GET", `${e.url}/api/serve/applications/`)).status).toBe(200);
    e.setFailNext(500, 2);
    expect((await putApps(e.url, { applications: [app("a")] })).status).toBe(500);
    expect((await httpRequest("GET", `${e.url}/api/serve/applications/`)).status).toBe(500);
    expect((await httpRequest("GET", `${e.url}/api/serve/applications/`)).status).toBe(200);
    expect(e.acceptedPutCount()).toBe(0);
    e.setFailNext(503);
    expect((await httpRequest("GET", `${e.url}/api/ray/version`)).status).toBe(503);
    e.setLatencyMs(60);
    const t0 = Date.now();
    await httpRequest("GET", `${e.url}/api/ray/version`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it("answers a PUT the Serve controller fails 400 with str(RayTaskError), as serve_head.py does, and applies nothing", async () => {
    const e = await start();
    e.failNextPutInController();
    const failed = await putApps(e.url, { applications: [app("a")] });
    expect(failed.status).toBe(400);
    const lines = failed.body.split("\n");
    expect(lines[0]).toMatch(
      // eslint-disable-next-line no-control-regex -- RayTaskError.__str__ colours the proctitle with colorama
      /^\u001b\[36mray::ServeController\.apply_config\(\)\u001b\[39m \(pid=\d+, ip=127\.0\.0\.1, actor_id=[0-9a-f]{32}, repr=<ray\.serve\._private\.controller\.ServeController object at 0x[0-9a-f]+>\)$/,
    );
    expect(lines.at(-1)).toMatch(/^ray\.serve\._private\.storage\.kv_store\.KVStoreError: /);
    expect(e.acceptedPutCount()).toBe(0);
    // A config that fails validation is still the pydantic 400, and the next valid PUT is applied.
    expect((await putApps(e.url, { applications: [{ name: "a" }] })).body).toMatch(
      /^ValidationError\(model='ServeDeploySchema'/,
    );
    expect((await putApps(e.url, { applications: [app("a")] })).status).toBe(200);
    expect(e.acceptedPutCount()).toBe(1);
  });

  it("answers unknown routes like aiohttp", async () => {
    const e = await start();
    expect(await httpRequest("GET", `${e.url}/api/serve/applications`)).toMatchObject({
      status: 404,
      body: "404: Not Found",
    });
    expect(await httpRequest("GET", `${e.url}/api/serve/deployments/`)).toMatchObject({ status: 404 });
    expect(await httpRequest("POST", `${e.url}/api/serve/applications/`, "{}")).toMatchObject({
      status: 405,
      body: "405: Method Not Allowed",
    });
    expect(e.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /api/serve/applications",
      "GET /api/serve/deployments/",
      "POST /api/serve/applications/",
    ]);
  });

  it("keeps only the newest requests when told to, so a long-running emulator stays bounded", async () => {
    const e = await start({ maxRecordedRequests: 2 });
    for (const path of ["/a", "/b", "/c"]) await httpRequest("GET", `${e.url}${path}`);
    expect(e.requests.map((r) => r.path)).toEqual(["/b", "/c"]);
  });

  it("exposes the ServeInstanceDetails shape of a running Serve", async () => {
    const e = await start();
    await putApps(e.url, { applications: [llmApp("chat", [llmConfig("qwen")])] });
    const d = await waitFor(async () => {
      const x = await getApps(e.url);
      return x.applications.chat?.status === "RUNNING" && x;
    });
    expect(Object.keys(d).sort()).toEqual([
      "applications",
      "controller_info",
      "grpc_options",
      "http_options",
      "proxies",
      "proxy_location",
      "target_capacity",
    ]);
    expect(Object.keys(d.controller_info).sort()).toEqual([
      "actor_id",
      "actor_name",
      "log_file_path",
      "node_id",
      "node_ip",
      "worker_id",
    ]);
    expect(d).toMatchObject({
      proxy_location: "EveryNode",
      http_options: { host: "0.0.0.0", port: 8000 },
      grpc_options: { port: 9000, grpc_servicer_functions: [] },
      target_capacity: null,
    });
    expect(Object.values(d.proxies as Record<string, { status: string }>)[0]?.status).toBe("HEALTHY");
    const a = d.applications.chat;
    expect(Object.keys(a).sort()).toEqual([
      "deployed_app_config",
      "deployments",
      "docs_path",
      "external_scaler_enabled",
      "last_deployed_time_s",
      "message",
      "name",
      "route_prefix",
      "source",
      "status",
    ]);
    expect(a).toMatchObject({
      name: "chat",
      route_prefix: "/chat",
      docs_path: null,
      message: "",
      source: "declarative",
    });
    const dep = a.deployments["LLMServer:qwen"];
    expect(Object.keys(dep).sort()).toEqual([
      "deployment_config",
      "message",
      "name",
      "replicas",
      "required_resources",
      "status",
      "status_trigger",
      "target_num_replicas",
    ]);
    expect(dep).toMatchObject({
      status: "HEALTHY",
      status_trigger: "CONFIG_UPDATE_COMPLETED",
      target_num_replicas: 1,
      deployment_config: { name: "LLMServer:qwen", num_replicas: 1, max_ongoing_requests: 1_000_000_000 },
    });
    expect(Object.keys(dep.replicas[0]).sort()).toEqual([
      "actor_id",
      "actor_name",
      "log_file_path",
      "node_id",
      "node_ip",
      "pid",
      "replica_id",
      "start_time_s",
      "state",
      "worker_id",
    ]);
    expect(dep.replicas[0].state).toBe("RUNNING");
    expect(a.deployments.OpenAiIngress.target_num_replicas).toBe(2);
  });
});

describe("ray dashboard emulator: parity with serve_head's PUT statuses (hunt-emu)", () => {
  // python/ray/dashboard/modules/serve/serve_head.py put_all_applications has no 503 path: 400 for a
  // ValidationError, 400 with str(e) when client.deploy_apps(config) raises RayTaskError (the controller's
  // apply_config task failed: the same kind of failure that makes GET answer 503), and 500 with a traceback
  // for anything else (dashboard/optional_utils.py init_ray_and_catch_exceptions). Only GET answers 503.
  it("never answers a PUT with 503, even while the controller cannot be reached", async () => {
    const e = await start();
    e.setControllerDown(true);
    expect((await httpRequest("GET", `${e.url}/api/serve/applications/`)).status).toBe(503);
    const put = await putApps(e.url, { applications: [app("a")] });
    expect([400, 500]).toContain(put.status);
  });
});
