// Entry point of the serving-specs check, bundled to actions/check/dist/index.js (`npm run build:action`).
import { run } from "./run";

await run();
