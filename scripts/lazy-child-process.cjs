// Bundled in place of node:child_process (scripts/bundle.mjs): commander
// requires child_process at load time, for git-style subcommands elfrun does
// not have, and loading it (with net, dgram and streams) cost ~7 ms of every
// start-up. This loads the real module on first use.
'use strict';
let real = null;
// (a computed name, so that the bundler's alias does not point this back at itself)
const NAME = ['node', 'child_process'].join(':');
const load = () => (real ??= require(NAME));
module.exports = new Proxy(
  {},
  {
    get: (_t, key) => load()[key],
    has: (_t, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  },
);
