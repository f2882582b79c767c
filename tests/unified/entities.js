'use strict';
// The per-test entity map and creation of client/database/collection/session entities.
//
// Each client records the events its test asked for (observeEvents), minus the ones the
// spec says to ignore: ignoreCommandMonitoringEvents, configureFailPoint, and sensitive
// commands unless observeSensitiveCommands is set.
const { mongodb } = require('./deps');
const { plain, readPreference } = require('./values');

const { MongoClient } = mongodb;

class UnsupportedError extends Error {}

// Driver event name for each unified-format event type.
const EVENT_NAMES = {
  commandStartedEvent: 'commandStarted',
  commandSucceededEvent: 'commandSucceeded',
  commandFailedEvent: 'commandFailed',
  poolCreatedEvent: 'connectionPoolCreated',
  poolReadyEvent: 'connectionPoolReady',
  poolClearedEvent: 'connectionPoolCleared',
  poolClosedEvent: 'connectionPoolClosed',
  connectionCreatedEvent: 'connectionCreated',
  connectionReadyEvent: 'connectionReady',
  connectionClosedEvent: 'connectionClosed',
  connectionCheckOutStartedEvent: 'connectionCheckOutStarted',
  connectionCheckOutFailedEvent: 'connectionCheckOutFailed',
  connectionCheckedOutEvent: 'connectionCheckedOut',
  connectionCheckedInEvent: 'connectionCheckedIn',
  serverDescriptionChangedEvent: 'serverDescriptionChanged',
  serverHeartbeatStartedEvent: 'serverHeartbeatStarted',
  serverHeartbeatSucceededEvent: 'serverHeartbeatSucceeded',
  serverHeartbeatFailedEvent: 'serverHeartbeatFailed',
  topologyDescriptionChangedEvent: 'topologyDescriptionChanged',
  topologyOpeningEvent: 'topologyOpening',
  topologyClosedEvent: 'topologyClosed',
};
const COMMAND_EVENTS = new Set(['commandStartedEvent', 'commandSucceededEvent', 'commandFailedEvent']);
const SDAM_EVENTS = new Set(Object.keys(EVENT_NAMES).filter((k) => /^(server|topology)/.test(k)));

// Command Logging and Monitoring spec: these carry credentials and are never observed.
const SENSITIVE = new Set(['authenticate', 'saslstart', 'saslcontinue', 'getnonce', 'createuser', 'updateuser', 'copydbgetnonce', 'copydbsaslstart', 'copydb']);

function eventCategory(type) {
  if (COMMAND_EVENTS.has(type)) return 'command';
  if (SDAM_EVENTS.has(type)) return 'sdam';
  return 'cmap';
}

class EntityMap {
  constructor() {
    this.map = new Map();
  }

  add(name, kind, value, extra = {}) {
    if (this.map.has(name)) throw new Error(`entity ${name} already exists`);
    this.map.set(name, { kind, value, ...extra });
    return value;
  }

  has(name) {
    return this.map.has(name);
  }

  entry(name, kind) {
    const e = this.map.get(name);
    if (!e) throw new Error(`entity ${name} is not defined`);
    const kinds = Array.isArray(kind) ? kind : kind ? [kind] : null;
    if (kinds && !kinds.includes(e.kind)) throw new Error(`entity ${name} is a ${e.kind}, expected ${kinds.join('|')}`);
    return e;
  }

  // Value lookup used by $$matchesEntity.
  get(name) {
    return this.entry(name).value;
  }

  sessionLsid(name) {
    const e = this.map.get(name);
    return e && e.kind === 'session' ? e.lsid : undefined;
  }

  entries() {
    return this.map.entries();
  }

  // End sessions, close cursors/streams, then clients (spec: "Clear the entity map").
  async close() {
    const order = ['changeStream', 'findCursor', 'commandCursor', 'session', 'client'];
    for (const kind of order) {
      for (const e of this.map.values()) {
        if (e.kind !== kind) continue;
        try {
          if (kind === 'session') await e.value.endSession();
          else await e.value.close();
        } catch {
          // Cleanup must continue even if one entity is already broken.
        }
      }
    }
    this.map.clear();
  }
}

// Applies uriOptions on top of the suite URI (uriOptions win on conflicts).
function buildUri(baseUri, uriOptions = {}) {
  const url = new URL(baseUri);
  for (const [key, raw] of Object.entries(uriOptions)) {
    const value = plain(raw);
    if (value && typeof value === 'object' && value.$$placeholder !== undefined) {
      throw new UnsupportedError(`uriOptions.${key} needs a $$placeholder value this runner cannot supply`);
    }
    url.searchParams.delete(key);
    if (key === 'readPreferenceTags' && Array.isArray(value)) {
      for (const tags of value) url.searchParams.append(key, tags);
    } else if (key === 'authMechanismProperties' && value && typeof value === 'object') {
      url.searchParams.set(key, Object.entries(value).map(([k, v]) => `${k}:${v}`).join(','));
    } else {
      url.searchParams.set(key, String(value));
    }
  }
  // directConnection=true allows a single seed only and no replicaSet option.
  if (url.searchParams.get('directConnection') === 'true') url.searchParams.delete('replicaSet');
  return url.toString();
}

function createClient(spec, ctx) {
  for (const key of ['autoEncryptOpts', 'observeLogMessages', 'observeTracingMessages']) {
    if (spec[key]) throw new UnsupportedError(`client.${key} is not supported by this runner`);
  }
  // __skipPingOnConnect: connect() would otherwise check a connection out and in, which
  // tests observing CMAP events do not expect (and the spec's drivers do not do).
  const options = { monitorCommands: true, __skipPingOnConnect: true };
  if (spec.serverApi) options.serverApi = plain(spec.serverApi);
  const client = new MongoClient(buildUri(ctx.uri, spec.uriOptions), options);
  const observe = new Set(spec.observeEvents ?? []);
  const ignored = new Set((spec.ignoreCommandMonitoringEvents ?? []).map((n) => n.toLowerCase()));
  const record = { kind: 'client', value: client, events: [], allCommandStarts: [], checkedOut: 0 };

  // requestIds of started events judged sensitive, so their succeeded/failed events go too.
  const sensitiveRequests = new Set();
  const isIgnoredCommand = (type, ev) => {
    const name = String(ev.commandName).toLowerCase();
    if (name === 'configurefailpoint' || ignored.has(name)) return true;
    if (spec.observeSensitiveCommands) return false;
    if (SENSITIVE.has(name)) return true;
    if (type !== 'commandStartedEvent') return sensitiveRequests.has(ev.requestId);
    // hello with speculativeAuthenticate is sensitive; the driver redacts it to {}.
    if ((name === 'hello' || name === 'ismaster') && ev.command && Object.keys(ev.command).length === 0) {
      sensitiveRequests.add(ev.requestId);
      return true;
    }
    return false;
  };

  for (const [type, driverName] of Object.entries(EVENT_NAMES)) {
    client.on(driverName, (ev) => {
      if (type === 'connectionCheckedOutEvent') record.checkedOut++;
      if (type === 'connectionCheckedInEvent') record.checkedOut--;
      if (COMMAND_EVENTS.has(type) && isIgnoredCommand(type, ev)) return;
      // Lsid assertions look at every command started, observed or not.
      if (type === 'commandStartedEvent') record.allCommandStarts.push(ev);
      if (!observe.has(type)) return;
      record.events.push({ type, category: eventCategory(type), event: ev });
    });
  }
  return record;
}

function collectionOrDatabaseOptions(opts = {}) {
  const out = {};
  for (const [k, v] of Object.entries(opts)) {
    if (k === 'readPreference') out.readPreference = readPreference(v);
    else out[k] = plain(v);
  }
  return out;
}

function sessionOptions(opts = {}, entities) {
  const out = {};
  for (const [k, v] of Object.entries(opts)) {
    if (k === 'defaultTransactionOptions') {
      out.defaultTransactionOptions = collectionOrDatabaseOptions(v);
    } else if (k === 'snapshotTime') {
      // The test names an entity holding the Timestamp (saved by getSnapshotTime).
      out.snapshotTime = entities.get(v);
    } else {
      out[k] = plain(v);
    }
  }
  return out;
}

// Creates the entities described by `list` (createEntities syntax) into `entities`.
async function createEntities(list, entities, ctx) {
  for (const item of list) {
    const keys = Object.keys(item);
    if (keys.length !== 1) throw new Error(`entity must have exactly one key, got ${keys.join(',')}`);
    const kind = keys[0];
    const spec = item[kind];
    switch (kind) {
      case 'client': {
        const record = createClient(spec, ctx);
        entities.add(spec.id, 'client', record.value, record);
        await record.value.connect();
        break;
      }
      case 'database': {
        const client = entities.entry(spec.client, 'client').value;
        entities.add(spec.id, 'database', client.db(spec.databaseName, collectionOrDatabaseOptions(spec.databaseOptions)), { clientName: spec.client });
        break;
      }
      case 'collection': {
        const dbEntry = entities.entry(spec.database, 'database');
        const coll = dbEntry.value.collection(spec.collectionName, collectionOrDatabaseOptions(spec.collectionOptions));
        entities.add(spec.id, 'collection', coll, { clientName: dbEntry.clientName });
        break;
      }
      case 'session': {
        const client = entities.entry(spec.client, 'client').value;
        const session = client.startSession(sessionOptions(spec.sessionOptions, entities));
        // Read the lsid now: after endSession the driver no longer exposes it, but
        // $$sessionLsid must still match commands sent earlier.
        entities.add(spec.id, 'session', session, { clientName: spec.client, lsid: session.id });
        break;
      }
      case 'thread':
        entities.add(spec.id, 'thread', { queue: Promise.resolve(), error: null });
        break;
      case 'bucket':
        throw new UnsupportedError('GridFS bucket entities are not supported by this runner');
      case 'clientEncryption':
        throw new UnsupportedError('clientEncryption entities are not supported (no CSFLE)');
      default:
        throw new Error(`unknown entity type ${kind}`);
    }
  }
}

module.exports = { EntityMap, createEntities, buildUri, UnsupportedError, EVENT_NAMES, eventCategory };
