import { commandGroup } from '../command-group.js';
import { EXIT_CODES_HELP } from '../exit-codes.js';
import { casCommand } from './kv/cas.js';
import { delCommand } from './kv/del.js';
import { getCommand } from './kv/get.js';
import { memberCommand } from './kv/member.js';
import { putCommand } from './kv/put.js';
import { statusCommand } from './kv/status.js';
import { transferLeaderCommand } from './kv/transfer-leader.js';
import { watchCommand } from './kv/watch.js';

export const kvCommand = commandGroup({
  name: 'kv',
  summary: 'read, write and watch the cat-feeder store; its status and members',
  description: `The cat-feeder key/value store, replicated by Raft (the famous key: cat.state).
Any replica takes any request (followers forward writes to the leader), so the
--endpoints are tried in order, moving on while one is unavailable, until --timeout.`,
  commands: [
    getCommand,
    putCommand,
    casCommand,
    delCommand,
    watchCommand,
    statusCommand,
    memberCommand,
    transferLeaderCommand,
  ],
  epilog: EXIT_CODES_HELP,
});
