// @kubernetes/client-node 2.x brings undici 8, which reads zlib.createZstdDecompress when it loads (Node 22.15+
// has it), and worker_threads.markAsUncloneable (Node 22.10+) for its web classes. Node 20 on this machine image has no zstd: give undici a stand-in so it loads. It would only be called
// for a response with Content-Encoding: zstd, which the simulator never sends. Import this before client-node.
import zlib from "node:zlib";
import workerThreads from "node:worker_threads";

if (typeof zlib.createZstdDecompress !== "function") {
  zlib.createZstdDecompress = () => { throw new Error("zstd is not available in this Node.js version"); };
}

if (typeof workerThreads.markAsUncloneable !== "function") {
  // Only marks objects as not structured-cloneable; nothing in these tests clones undici objects.
  workerThreads.markAsUncloneable = () => {};
}

if (typeof Promise.withResolvers !== "function") {
  // ES2024 (Node 22): the standard polyfill.
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
