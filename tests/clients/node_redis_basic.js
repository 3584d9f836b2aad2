// node-redis with default options against 127.0.0.1:PORT (argv: module,
// port, key prefix): connect (node-redis 6 opens with HELLO 3), plain
// commands, several in flight at once, close. Prints one JSON line of what
// it saw, so runs against redis-server and ringproxy can be compared.
"use strict";
const { createClient } = require(process.argv[2]);

const [port, p] = [Number(process.argv[3]), process.argv[4] || "nr"];
const out = { errors: [] };
const guard = setTimeout(() => {
  out.error = "timed out";
  console.log(JSON.stringify(out));
  process.exit(2);
}, 10000);

async function main() {
  const client = createClient({ url: "redis://127.0.0.1:" + port });
  client.on("error", (e) => out.errors.push(e.message));
  await client.connect();
  const info = await client.sendCommand(["CLIENT", "INFO"]);
  out.resp = (String(info).match(/ resp=(\d)/) || [])[1];
  await client.del([p + ":a", p + ":b", p + ":h", p + ":z", p + ":f"]);
  out.set = await client.set(p + ":a", "1");
  out.get = await client.get(p + ":a");
  out.missing = await client.get(p + ":none");
  out.hset = await client.hSet(p + ":h", { f1: "v1", f2: "v2" });
  out.hgetall = await client.hGetAll(p + ":h");
  out.zadd = await client.zAdd(p + ":z", [{ score: 1.5, value: "m" }]);
  out.zscore = await client.zScore(p + ":z", "m");
  out.incrbyfloat = await client.incrByFloat(p + ":f", 2.25);
  // Sent together: replies must come back in order.
  out.together = await Promise.all([
    client.set(p + ":b", "2"),
    client.mGet([p + ":a", p + ":b", p + ":none"]),
    client.exists([p + ":a", p + ":b", p + ":none"]),
    client.incr(p + ":n"),
    client.del(p + ":n"),
  ]);
  out.ping = await client.ping();
  await client.quit();
  out.ready = client.isReady;
}

main()
  .catch((e) => { out.error = e.message; })
  .finally(() => {
    clearTimeout(guard);
    console.log(JSON.stringify(out));
  });
