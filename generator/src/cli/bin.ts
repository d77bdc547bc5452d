import { ignoreClosedPipe, main } from "./main";

ignoreClosedPipe(process.stdout);
ignoreClosedPipe(process.stderr);

process.exitCode = await main(process.argv.slice(2));
