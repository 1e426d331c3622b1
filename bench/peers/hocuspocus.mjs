// Hocuspocus as the benchmark runs it: no extensions, no persistence, no authentication hook.
// bench/peers.py copies this file into its scratch install (bench/.peers/hocuspocus/) so that
// it resolves that install's node_modules, and starts it with PORT set.
import { Server } from "@hocuspocus/server";

const server = new Server({ port: Number(process.env.PORT), address: "127.0.0.1", quiet: true });
await server.listen();
