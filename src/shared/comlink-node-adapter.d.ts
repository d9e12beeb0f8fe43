// comlink ships its Node adapter's types as node-adapter.d.ts next to the .mjs file we import; this
// re-declares them for the .mjs specifier, typed against worker_threads' MessagePort.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { MessagePort } from 'node:worker_threads';
  import type { Endpoint } from 'comlink';
  export default function nodeEndpoint(nep: MessagePort): Endpoint;
}
