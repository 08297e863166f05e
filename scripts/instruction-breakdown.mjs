// Which functions the instructions of a callgrind dump went to, with V8's JIT code named.
//
//   node scripts/instruction-breakdown.mjs <dump>.callgrind [--map <dump>.map] [--per <requests>]
//        [--top 40] [--inclusive] [--match <regexp>] [--callers <regexp>]
//        [--against <other>.callgrind [--against-per <requests>]]
//
// The dump and the map are what `scripts/count-instructions.mjs --keep <dir>` keeps. Callgrind
// names JIT code by address only; the map (`--perf-basic-prof`) names it, so JavaScript functions
// show as `JS:*name file:line` (`*` optimised, `~` not) and builtins by their `Builtins_` symbol.
// Prints the top functions by self cost, or with `--inclusive` by inclusive cost (self plus
// callees: only as good as callgrind's view of the calls, which JIT frames can blur), per request
// when `--per` is given (count-instructions counts 3,000 by default), else in all. `--match` keeps
// the functions whose name matches, e.g. `--match 'Decipher|createDecipheriv|EVP_'`. `--callers`
// lists, instead, who called the functions whose name matches, and the inclusive cost of those calls
// (e.g. `--callers '^Builtins_LoadIC$'`: which code pays for property loads V8 could not inline).
// `--against` prints, per function, this dump's cost less the other's (e.g. the gateway against
// the lab's `node-redis`), largest differences first.
import fs from 'node:fs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : argv[at + 1];
};
if (argv.length === 0 || argv.includes('--help')) {
  process.stdout.write(fs.readFileSync(new URL(import.meta.url), 'utf8').split('\nimport')[0] + '\n');
  process.exit(argv.length === 0 ? 2 : 0);
}
const dumpFile = argv[0];
const mapFile = option('map', dumpFile.replace(/\.callgrind$/, '.map'));
const per = Number(option('per', '1'));
const top = Number(option('top', '40'));
const inclusive = argv.includes('--inclusive');
const match = option('match', null);
const callers = option('callers', null);
const calleePattern = callers === null ? null : new RegExp(callers);

/** JIT code ranges from the perf map, sorted by start, for a binary search by address. */
function loadMap(file) {
  if (!fs.existsSync(file)) return [];
  const ranges = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (first === -1 || second === -1) continue;
    ranges.push({ start: parseInt(line.slice(0, first), 16), size: parseInt(line.slice(first + 1, second), 16), name: line.slice(second + 1) });
  }
  // A later entry for the same start (code moved or replaced) wins.
  ranges.sort((a, b) => a.start - b.start);
  return ranges;
}

/** Self, inclusive and by-caller instructions per function name, from one dump and its map. */
function load(dumpFile, mapFile) {
  const ranges = loadMap(mapFile);
  function jitName(address) {
    let low = 0;
    let high = ranges.length - 1;
    let found = null;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (ranges[mid].start <= address) {
        found = ranges[mid];
        low = mid + 1;
      } else high = mid - 1;
    }
    return found !== null && address < found.start + found.size ? found.name : null;
  }

  const names = new Map(); // compressed id -> name
  function nameOf(spec) {
    // "(12) name", "(12)" or a bare name.
    const m = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    let name = spec;
    if (m) {
      if (m[2] !== undefined) names.set(m[1], m[2]);
      name = names.get(m[1]) ?? spec;
    }
    if (/^0x[0-9a-f]+$/.test(name)) name = jitName(parseInt(name, 16)) ?? 'JIT code (unnamed)';
    // The same package from two checkouts (the gateway's and the lab's) is one name.
    return name.replace(/ (?:file:\/\/)?\/\S*?\/node_modules\//, ' node_modules/');
  }

  const self = new Map();
  const incl = new Map();
  const byCaller = new Map();
  const add = (map, key, value) => map.set(key, (map.get(key) ?? 0) + value);
  let current = null;
  let pendingCall = null;
  let total = 0;
  const lines = fs.readFileSync(dumpFile, 'utf8').split('\n');
  for (const line of lines) {
    if (line.startsWith('fn=')) {
      current = nameOf(line.slice(3));
    } else if (line.startsWith('cfn=')) {
      pendingCall = nameOf(line.slice(4));
    } else if (line.startsWith('calls=')) {
      // The next cost line is the callees' inclusive cost, not the caller's own.
      pendingCall = { callee: pendingCall };
    } else if (/^[0-9+\-*]/.test(line) && current !== null) {
      const parts = line.trim().split(/\s+/);
      const cost = Number(parts[parts.length - 1]);
      if (!Number.isFinite(cost)) continue;
      if (pendingCall !== null && typeof pendingCall === 'object') {
        if (pendingCall.callee !== current) add(incl, current, cost);
        if (calleePattern !== null && calleePattern.test(pendingCall.callee)) add(byCaller, current, cost);
        pendingCall = null;
      } else {
        add(self, current, cost);
        add(incl, current, cost);
        total += cost;
      }
    } else if (line.startsWith('summary:') || line.startsWith('totals:')) {
      total = Number(line.split(/\s+/)[1]) || total;
    }
  }

  return { self, incl, byCaller, total };
}

const main = load(dumpFile, mapFile);
const against = option('against', null);
const other = against === null ? null : load(against, option('against-map', against.replace(/\.callgrind$/, '.map')));

// Many JIT entries share a name (the same function compiled again): fold them by name.
const pick = (run) => (callers !== null ? run.byCaller : inclusive ? run.incl : run.self);
const costs = new Map(pick(main));
if (other !== null) {
  // Per request each: the difference is this dump's cost less the other's.
  const otherPer = Number(option('against-per', String(per)));
  for (const [name, cost] of costs) costs.set(name, cost / per);
  for (const [name, cost] of pick(other)) costs.set(name, (costs.get(name) ?? 0) - cost / otherPer);
}
const scale = other === null ? per : 1;
const total = main.total / per - (other === null ? 0 : other.total / Number(option('against-per', String(per))));
const table = [...costs]
  .filter(([name]) => match === null || new RegExp(match).test(name))
  .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
  .slice(0, top);
const fmt = (n) => Math.round(n / scale).toLocaleString('en-GB');
process.stdout.write(`${other === null ? '' : `difference from ${against}: `}${callers !== null ? `calls to /${callers}/ by caller, inclusive` : inclusive ? 'inclusive' : 'self'} instructions${per === 1 ? '' : ' per request'}; all: ${fmt(total * scale)}\n`);
for (const [name, cost] of table) {
  process.stdout.write(`${fmt(cost).padStart(10)}  ${((cost / (main.total / (other === null ? 1 : per))) * 100).toFixed(1).padStart(5)} %  ${name}\n`);
}
