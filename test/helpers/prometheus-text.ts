/**
 * A parser of the Prometheus text exposition format (0.0.4), strict enough that a scrape that
 * a stock Prometheus would reject fails the test: every sample line must parse, every sample
 * must belong to a metric with a TYPE, and label values are unescaped as Prometheus does.
 */
export type PromSample = { name: string; labels: Record<string, string>; value: number };
export type PromText = {
  samples: PromSample[];
  types: Map<string, string>;
  help: Map<string, string>;
};

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const SUFFIXES = ["_bucket", "_count", "_sum", "_total", "_created"];

export function parsePrometheusText(text: string): PromText {
  const out: PromText = { samples: [], types: new Map(), help: new Map() };
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === "TYPE" ? out.types : out.help).set(meta[2]!, meta[3]!);
      continue;
    }
    if (line.startsWith("#")) continue;
    out.samples.push(parseSample(line, i + 1));
  }
  for (const s of out.samples) {
    const family = SUFFIXES.reduce(
      (n, suf) =>
        n.endsWith(suf) && out.types.has(n.slice(0, -suf.length)) ? n.slice(0, -suf.length) : n,
      s.name,
    );
    if (!out.types.has(family)) throw new Error(`sample ${s.name} has no TYPE line`);
  }
  return out;
}

function parseSample(line: string, n: number): PromSample {
  const name = NAME.exec(line)?.[0];
  if (!name) throw new Error(`line ${n}: no metric name: ${line}`);
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    while (!rest.startsWith("}")) {
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)",?/.exec(rest);
      if (!m) throw new Error(`line ${n}: bad label: ${line}`);
      labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
      rest = rest.slice(m[0].length);
    }
    rest = rest.slice(1);
  }
  const v = /^ (\S+)( -?\d+)?$/.exec(rest);
  if (!v) throw new Error(`line ${n}: bad value: ${line}`);
  const value = v[1] === "+Inf" ? Infinity : v[1] === "-Inf" ? -Infinity : Number(v[1]);
  if (Number.isNaN(value) && v[1] !== "NaN") throw new Error(`line ${n}: bad value: ${line}`);
  return { name, labels, value };
}

/** The value of the one sample with this name whose labels include `labels`. */
export function sample(
  t: PromText,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const hits = t.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length > 1 && Object.keys(labels).length > 0)
    throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
