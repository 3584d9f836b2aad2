// ioredis with default options against HOST:PORT (argv): wait for
// 'ready' (its ready check reads INFO), SET/GET/MGET, quit. Prints one
// JSON line with what it saw, so the same run against redis-server and
// against ringproxy can be compared.
"use strict";
const Redis = require("ioredis");

const [port, prefix] = [Number(process.argv[2]), process.argv[3] || "ior"];
const redis = new Redis({ host: "127.0.0.1", port, lazyConnect: false });
const out = { events: [] };
const guard = setTimeout(() => {
  out.error = "timed out";
  console.log(JSON.stringify(out));
  process.exit(2);
}, 10000);

redis.on("error", (e) => out.events.push("error: " + e.message));
redis.on("ready", async () => {
  out.events.push("ready");
  try {
    out.set = await redis.set(prefix + ":a", "1");
    await redis.set(prefix + ":b", "2");
    out.get = await redis.get(prefix + ":a");
    out.mget = await redis.mget(prefix + ":a", prefix + ":b", prefix + ":none");
    out.quit = await redis.quit();
  } catch (e) {
    out.error = e.message;
  }
  redis.on("end", () => {
    out.events.push("end");
    clearTimeout(guard);
    console.log(JSON.stringify(out));
  });
});
