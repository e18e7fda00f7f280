/**
 * `require("artillery-engine-wirelab")`: Artillery 2.x loads engines by that CommonJS name, from
 * its own node_modules or from NODE_PATH. wirelab is an ES module, so this file only forwards to
 * `ArtilleryEngine` (scenarios/harness/artillery-engine.ts, compiled in dist/), imported once per
 * thread on first use. A failure to import it fails every virtual user with its error, as a bad
 * option does, rather than the whole run.
 */
"use strict";

const { existsSync } = require("node:fs");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const ROOT = path.resolve(__dirname, "../../..");
const COMPILED = path.join(ROOT, "dist/scenarios/harness/artillery-engine.js");
// A checkout run under tsx (node --conditions=wirelab-source --import tsx) has no dist/.
const SOURCE = path.join(ROOT, "scenarios/harness/artillery-engine.ts");

let loading = null;

function loadEngineModule() {
  loading ??= import(pathToFileURL(existsSync(COMPILED) ? COMPILED : SOURCE).href).catch((error) => {
    const why = existsSync(COMPILED) ? error.message : `${COMPILED} is missing (a checkout: npm run build) and ${SOURCE} did not load: ${error.message}`;
    throw Object.assign(new Error(`the wirelab engine could not be loaded: ${why}`, { cause: error }), { code: error.code ?? "Error" });
  });
  return loading;
}

class WirelabArtilleryEngine {
  constructor(script, runnerEvents, helpers) {
    this.engine = loadEngineModule().then((m) => new m.ArtilleryEngine(script, runnerEvents, helpers));
    this.engine.catch(() => {});
    this.reported = false;
  }

  createScenario(spec, events) {
    const run = this.engine.then((engine) => engine.createScenario(spec, events));
    run.catch(() => {});
    return (context, callback) => {
      run.then(
        (runVirtualUser) => runVirtualUser(context, callback),
        (error) => {
          events.emit("started");
          if (!this.reported) {
            this.reported = true;
            console.error(`wirelab engine: ${error.message}`);
          }
          events.emit("error", error.code);
          callback(error, context);
        },
      );
    };
  }
}

module.exports = WirelabArtilleryEngine;
