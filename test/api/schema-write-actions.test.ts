// api_schema.php describes every action the server answers, with every parameter it reads, and the
// library-management actions are all there under the names the official clients generate: the
// kaltura-client package's service objects have a method for each (Kaltura's generator names a
// method `{action}Action` where the action is a JavaScript keyword: deleteAction, listAction), so
// a generated client reaches every write action unchanged.
import t from 'tap';
import kaltura from 'kaltura-client';
import { XMLParser } from 'fast-xml-parser';
import { SERVICES } from '../../src/api/services/index.js';
import { startServer } from '../helpers/server.js';

/** The library-management actions: [schema service id, client service, actions]. */
const WRITE_ACTIONS: [string, string, string[]][] = [
  ['baseentry', 'baseEntry', ['update', 'getByIds', 'approve', 'reject', 'updateThumbnailJpeg', 'delete']],
  ['media', 'media', ['update', 'approve', 'reject', 'updateThumbnail', 'updateThumbnailJpeg']],
  ['accesscontrolprofile', 'accessControlProfile', ['add', 'get', 'list', 'update', 'delete']],
  ['caption_captionasset', 'captionAsset', ['add', 'setContent', 'update', 'setAsDefault', 'delete', 'get', 'list', 'getUrl']],
  ['thumbasset', 'thumbAsset', ['list', 'get', 'getByEntryId', 'add', 'addFromImage', 'setContent', 'setAsDefault', 'update', 'delete', 'getUrl']],
  ['flavorasset', 'flavorAsset', ['delete', 'reconvert']],
  ['deliveryprofile', 'deliveryProfile', ['get', 'list']],
  ['partner', 'partner', ['get']],
  ['uiconf', 'uiConf', ['get']],
  ['widget', 'widget', ['get']],
];
const JS_KEYWORDS = new Set(['delete', 'list', 'export']);

t.test('the schema describes every action and parameter; the client library has a method for each write action', async (t) => {
  const s = await startServer(t);
  const text = await (await fetch(`${s.url}/api_v3/api_schema.php`)).text();
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['service', 'action', 'param', 'throws'].includes(name) }).parse(text);
  const schema = new Map<string, Map<string, Set<string>>>();
  for (const svc of doc.xml.services.service) {
    schema.set(svc.id, new Map((svc.action ?? []).map((a: { name: string; param?: { name: string }[] }) => [a.name, new Set((a.param ?? []).map((p) => p.name))])));
  }

  for (const m of SERVICES) {
    const id = m.name.toLowerCase();
    const actions = schema.get(id);
    t.ok(actions, `the schema has service ${id}`);
    for (const [name, spec] of Object.entries(m.actions)) {
      const params = actions?.get(name);
      t.ok(params, `${id}.${name} is in the schema`);
      const missing = Object.keys(spec.params ?? {}).filter((p) => !params?.has(p));
      t.same(missing, [], `${id}.${name}: every parameter it reads is declared`);
    }
  }

  for (const [id, clientService, actions] of WRITE_ACTIONS) {
    const registered = SERVICES.find((m) => m.name.toLowerCase() === id);
    const client = (kaltura.services as Record<string, Record<string, unknown>>)[clientService];
    for (const action of actions) {
      t.ok(registered && Object.hasOwn(registered.actions, action), `${id}.${action} is answered`);
      t.ok(schema.get(id)?.has(action), `${id}.${action} is in the schema`);
      const method = JS_KEYWORDS.has(action) ? `${action}Action` : action;
      t.type(client?.[method], 'function', `kaltura-client has services.${clientService}.${method}`);
    }
  }
});
