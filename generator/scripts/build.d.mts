// Types of build.mjs, for the tests that bundle the CLI themselves (plan.e2e, agent/testkit/bundle-cli).
import type { BuildOptions } from "esbuild";

export declare const cliOptions: BuildOptions;
export declare const actionOptions: BuildOptions;
