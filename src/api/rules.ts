// Access-control rules between Kaltura's API objects (KalturaRule with its KalturaCondition and
// KalturaRuleAction subclasses, numbered enums, values wrapped in KalturaStringValue) and the form
// the catalog stores and src/access/evaluate.ts evaluates (src/catalog/types.ts). Both ways, so what a
// client writes is exactly what it reads back and what playManifest enforces. Anything this server
// would not evaluate (an unknown condition or action class, a malformed IP range, a context number
// Kaltura does not have) is refused, never stored to be skipped.
import { MAX_VALUES } from '../access/evaluate.js';
import { parseIpRangeList } from '../access/ip.js';
import type { AccessContext, AccessRule, Condition, RuleAction } from '../catalog/types.js';
import { ApiError, defineApiErrors } from './errors.js';
import type { Params } from './params.js';
import type { ApiObject, SchemaClass, SchemaEnum } from './types.js';

defineApiErrors({
  PROPERTY_VALIDATION_WRONG_FORMAT: 'The property "%PROP_NAME%" must match format %FORMAT%',
  // kdeliver's: Kaltura has no such bound
  PROPERTY_VALIDATION_MAX_ITEMS: 'The property "%PROP_NAME%" cannot have more than %MAX_ITEMS% items',
});

const CONTEXTS: AccessContext[] = ['PLAY', 'DOWNLOAD', 'THUMBNAIL', 'METADATA', 'EXPORT', 'SERVE'];
const contextNumber = (c: AccessContext): number => CONTEXTS.indexOf(c) + 1;

const CONDITION_CLASSES: Record<string, Condition['type']> = {
  KalturaAuthenticatedCondition: 'authenticated',
  KalturaCountryCondition: 'country',
  KalturaIpAddressCondition: 'ip',
  KalturaSiteCondition: 'site',
  KalturaUserAgentCondition: 'userAgent',
  KalturaFieldCompareCondition: 'fieldCompare',
  KalturaAssetPropertiesCompareCondition: 'assetProperties',
  KalturaOrCondition: 'or',
  KalturaHashCondition: 'hash',
  KalturaHttpHeaderCondition: 'httpHeader',
  KalturaEntryScheduledCondition: 'entryScheduled',
  KalturaSessionTypeCondition: 'sessionType',
};
/** Kaltura's ConditionType numbers (the condition's `type`), for clients that send the number without a class. */
const CONDITION_NUMBERS: Record<string, Condition['type']> = {
  1: 'authenticated', 2: 'country', 3: 'ip', 4: 'site', 5: 'userAgent', 7: 'fieldCompare', 8: 'assetProperties',
  11: 'or', 12: 'hash', 18: 'httpHeader', 19: 'entryScheduled', 22: 'sessionType',
};
const conditionClass = Object.fromEntries(Object.entries(CONDITION_CLASSES).map(([k, v]) => [v, k])) as Record<Condition['type'], string>;
const conditionNumber = Object.fromEntries(Object.entries(CONDITION_NUMBERS).map(([k, v]) => [v, String(k)])) as Record<Condition['type'], string>;

const ACTION_CLASSES: Record<string, RuleAction['type']> = {
  KalturaAccessControlBlockAction: 'block',
  KalturaAccessControlPreviewAction: 'preview',
  KalturaAccessControlLimitFlavorsAction: 'limitFlavors',
  KalturaAccessControlLimitDeliveryProfilesAction: 'limitDeliveryProfiles',
  KalturaAccessControlModifyRequestHostRegexAction: 'requestHostRegex',
  KalturaAccessControlDrmPolicyAction: 'drmPolicy',
};
/** Kaltura's RuleActionType numbers. */
const ACTION_NUMBERS: Record<string, RuleAction['type']> = {
  1: 'block', 2: 'preview', 3: 'limitFlavors', 5: 'limitDeliveryProfiles', 7: 'requestHostRegex',
  // a plugin's dynamic enum value: plugin name, ".", value (the DRM plugin's DrmAccessControlActionType)
  'drm.DRM_POLICY': 'drmPolicy',
};
const actionClass = Object.fromEntries(Object.entries(ACTION_CLASSES).map(([k, v]) => [v, k])) as Record<RuleAction['type'], string>;
const actionNumber = Object.fromEntries(Object.entries(ACTION_NUMBERS).map(([k, v]) => [v, k])) as Record<RuleAction['type'], string>;

const isObj = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An API array: a JSON array, or an object keyed by index (form names), or '' / a '-' key for empty. */
function listOf(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v;
  if (!isObj(v)) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: where });
  if ('-' in v) return [];
  const keys = Object.keys(v).filter((k) => k !== 'objectType');
  if (keys.some((k) => !/^\d+$/.test(k))) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: where });
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => v[k]);
}

function objAt(v: unknown, where: string): Params {
  if (!isObj(v)) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: where });
  return v;
}

function bool(v: unknown, where: string): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (v === true || v === 1 || v === '1' || v === 'true') return true;
  if (v === false || v === 0 || v === '0' || v === 'false') return false;
  throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: String(v).slice(0, 64), PARAM_NAME: where, ENUM_TYPE: 'bool' });
}

function int(v: unknown, where: string, type = 'int', ok: (n: number) => boolean = () => true): number {
  // a number the rule needs and was not given (a preview's limit, a time condition's value)
  if (v === undefined || v === null || v === '') throw new ApiError('PROPERTY_VALIDATION_CANNOT_BE_NULL', { PROP_NAME: where });
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || !ok(n)) throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: String(v).slice(0, 64), PARAM_NAME: where, ENUM_TYPE: type });
  return n;
}

function str(v: unknown, where: string, max = 4096): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: where });
  const s = String(v);
  if (s.length > max) throw new ApiError('PROPERTY_VALIDATION_MAX_LENGTH', { PROP_NAME: where, MAX_LEN: max });
  return s;
}

/**
 * KalturaStringValue[] (or plain strings) → strings; at most the MAX_VALUES the evaluation tests,
 * so that no value is stored to be skipped.
 */
function stringValues(v: unknown, where: string): string[] {
  const list = listOf(v, where).map((x, i) => (isObj(x) ? str(x.value, `${where}:${i}:value`) : str(x, `${where}:${i}`))).filter((s) => s !== '');
  if (list.length > MAX_VALUES) throw new ApiError('PROPERTY_VALIDATION_MAX_ITEMS', { PROP_NAME: where, MAX_ITEMS: MAX_VALUES });
  return list;
}

/** A comma list of integers ("301961,301951"). */
function intList(v: unknown, where: string): number[] {
  const s = str(v, where);
  const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
  return parts.map((p) => int(p, where, 'a comma list of integers'));
}

function condition(raw: unknown, where: string, depth: number): Condition {
  const c = objAt(raw, where);
  const body = conditionBody(c, where, depth);
  const description = str(c.description, `${where}:description`, 1024);
  return description ? { ...body, description } : body;
}

function conditionBody(c: Params, where: string, depth: number): Condition {
  const cls = typeof c.objectType === 'string' ? c.objectType : undefined;
  const type = cls !== undefined ? CONDITION_CLASSES[cls] : CONDITION_NUMBERS[String(c.type ?? '')];
  if (!type) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: String(cls ?? c.type ?? where).slice(0, 64) });
  const not = bool(c.not, `${where}:not`);
  const values = () => stringValues(c.values, `${where}:values`);
  switch (type) {
    case 'authenticated': {
      const privileges = stringValues(c.privileges, `${where}:privileges`);
      return { type, not, ...(privileges.length ? { privileges } : {}) };
    }
    case 'country': return { type, not, values: values().map((x) => x.toUpperCase()) };
    case 'site': return { type, not, values: values() };
    case 'userAgent': return { type, not, values: values() };
    case 'ip': {
      const v = values();
      // a value may hold several ranges separated by commas; each one must be a range this server can test
      for (const r of v) if (parseIpRangeList(r).includes(null)) throw new ApiError('PROPERTY_VALIDATION_WRONG_FORMAT', { PROP_NAME: `${where}:values`, FORMAT: 'an IP address, CIDR, address/netmask or a-b range' });
      const header = str(c.httpHeader, `${where}:httpHeader`, 256);
      return { type, not, values: v, ...(header ? { httpHeader: header } : {}), ...(c.acceptInternalIps !== undefined ? { acceptInternalIps: bool(c.acceptInternalIps, `${where}:acceptInternalIps`) } : {}) };
    }
    case 'httpHeader': {
      const headerName = str(c.headerName, `${where}:headerName`, 256);
      if (!headerName) throw new ApiError('PROPERTY_VALIDATION_CANNOT_BE_NULL', { PROP_NAME: `${where}:headerName` });
      return { type, not, headerName, values: values() };
    }
    case 'fieldCompare': {
      const field = isObj(c.field) ? c.field : {};
      if (field.objectType !== undefined && field.objectType !== 'KalturaTimeContextField') throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: String(field.objectType).slice(0, 64) });
      const value = isObj(c.value) ? c.value.value : c.value;
      return {
        type, not, field: 'time', offset: field.offset === undefined || field.offset === null ? 0 : int(field.offset, `${where}:field:offset`),
        value: int(value, `${where}:value`), comparison: int(c.comparison ?? 1, `${where}:comparison`, 'KalturaSearchConditionComparison', (n) => n >= 1 && n <= 6),
      };
    }
    case 'assetProperties': {
      const properties: Record<string, string> = {};
      for (const [i, kv] of listOf(c.properties, `${where}:properties`).entries()) {
        const o = objAt(kv, `${where}:properties:${i}`);
        properties[str(o.key, `${where}:properties:${i}:key`, 256)] = str(o.value, `${where}:properties:${i}:value`);
      }
      return { type, not, properties };
    }
    case 'or': {
      if (depth > 8) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: `${where} (nested too deep)` });
      return { type, not, conditions: listOf(c.conditions, `${where}:conditions`).map((x, i) => condition(x, `${where}:conditions:${i}`, depth + 1)) };
    }
    case 'hash': {
      const hashName = str(c.hashName, `${where}:hashName`, 256);
      const hashSecret = str(c.hashSecret, `${where}:hashSecret`, 1024);
      if (!hashName || !hashSecret) throw new ApiError('PROPERTY_VALIDATION_CANNOT_BE_NULL', { PROP_NAME: `${where}:${hashName ? 'hashSecret' : 'hashName'}` });
      return { type, not, hashName, hashSecret };
    }
    case 'entryScheduled': return { type, not };
    case 'sessionType': return { type, not, sessionType: int(c.sessionType, `${where}:sessionType`, 'KalturaSessionType', (n) => n === 0 || n === 2) };
  }
}

function action(raw: unknown, where: string): RuleAction {
  const a = objAt(raw, where);
  const cls = typeof a.objectType === 'string' ? a.objectType : undefined;
  const type = cls !== undefined ? ACTION_CLASSES[cls] : ACTION_NUMBERS[String(a.type ?? '')];
  if (!type) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: String(cls ?? a.type ?? where).slice(0, 64) });
  if (a.type !== undefined && a.type !== null && a.type !== '' && ACTION_NUMBERS[String(a.type)] !== type) {
    throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: String(a.type).slice(0, 64), PARAM_NAME: `${where}:type`, ENUM_TYPE: 'KalturaRuleActionType' });
  }
  switch (type) {
    case 'block': return { type };
    case 'preview': return { type, limit: int(a.limit, `${where}:limit`, 'int (seconds, 0 or more)', (n) => n >= 0) };
    case 'limitFlavors': return { type, flavorParamsIds: intList(a.flavorParamsIds, `${where}:flavorParamsIds`), isBlockedList: bool(a.isBlockedList, `${where}:isBlockedList`) };
    case 'limitDeliveryProfiles': return { type, deliveryProfileIds: intList(a.deliveryProfileIds, `${where}:deliveryProfileIds`), isBlockedList: bool(a.isBlockedList, `${where}:isBlockedList`) };
    case 'requestHostRegex': {
      const timeout = a.checkAliveTimeoutMs === undefined || a.checkAliveTimeoutMs === null || a.checkAliveTimeoutMs === '' ? undefined
        : int(a.checkAliveTimeoutMs, `${where}:checkAliveTimeoutMs`, 'int (milliseconds, 0 or more)', (n) => n >= 0);
      return { type, pattern: str(a.pattern, `${where}:pattern`, 1024), replacement: str(a.replacement, `${where}:replacement`, 1024), ...(timeout !== undefined ? { checkAliveTimeoutMs: timeout } : {}) };
    }
    case 'drmPolicy': return { type, policyId: int(a.policyId ?? 0, `${where}:policyId`, 'int (0 or more)', (n) => n >= 0) };
  }
}

/** KalturaRule[] as a client sends them → the catalog's rules; refused as a whole at the first thing that cannot be evaluated. */
export function rulesFromApi(v: unknown): AccessRule[] {
  if (typeof v === 'string' && v !== '') throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: 'rules' });
  return listOf(v, 'rules').map((raw, i) => {
    const where = `rules:${i}`;
    const r = objAt(raw, where);
    if (r.objectType !== undefined && r.objectType !== 'KalturaRule') throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: String(r.objectType).slice(0, 64) });
    const contexts = listOf(r.contexts, `${where}:contexts`).map((c, j) => {
      const n = int(isObj(c) ? c.type : c, `${where}:contexts:${j}:type`, 'KalturaContextType', (x) => x >= 1 && x <= CONTEXTS.length);
      return CONTEXTS[n - 1];
    });
    const rule: AccessRule = {
      actions: listOf(r.actions, `${where}:actions`).map((a, j) => action(a, `${where}:actions:${j}`)),
      conditions: listOf(r.conditions, `${where}:conditions`).map((c, j) => condition(c, `${where}:conditions:${j}`, 0)),
    };
    if (contexts.length) rule.contexts = [...new Set(contexts)];
    const message = str(r.message, `${where}:message`, 1024);
    const code = str(r.code, `${where}:code`, 256);
    const description = str(r.description, `${where}:description`, 1024);
    if (message) rule.message = message;
    if (code) rule.code = code;
    if (description) rule.description = description;
    if (bool(r.stopProcessing, `${where}:stopProcessing`)) rule.stopProcessing = true;
    if (bool(r.forceAdminValidation, `${where}:forceAdminValidation`)) rule.forceAdminValidation = true;
    return rule;
  });
}

const stringValue = (value: string): ApiObject => ({ objectType: 'KalturaStringValue', value });

function conditionObject(c: Condition): ApiObject {
  const base: ApiObject = { objectType: conditionClass[c.type], type: conditionNumber[c.type], not: !!c.not, ...(c.description ? { description: c.description } : {}) };
  switch (c.type) {
    case 'authenticated': return { ...base, privileges: (c.privileges ?? ['sview', 'sviewplaylist']).map(stringValue) };
    case 'country': case 'site': case 'userAgent': return { ...base, values: c.values.map(stringValue) };
    case 'ip': return { ...base, values: c.values.map(stringValue), ...(c.httpHeader ? { httpHeader: c.httpHeader } : {}), ...(c.acceptInternalIps !== undefined ? { acceptInternalIps: c.acceptInternalIps } : {}) };
    case 'httpHeader': return { ...base, headerName: c.headerName, values: c.values.map(stringValue) };
    case 'fieldCompare': return { ...base, field: { objectType: 'KalturaTimeContextField', offset: c.offset ?? 0 }, value: { objectType: 'KalturaIntegerValue', value: c.value }, comparison: String(c.comparison) };
    case 'assetProperties': return { ...base, properties: Object.entries(c.properties).map(([key, value]) => ({ objectType: 'KalturaKeyValue', key, value: String(value) })) };
    case 'or': return { ...base, conditions: c.conditions.map(conditionObject) };
    case 'hash': return { ...base, hashName: c.hashName, hashSecret: c.hashSecret };
    case 'entryScheduled': return base;
    case 'sessionType': return { ...base, sessionType: c.sessionType };
  }
}

function actionObject(a: RuleAction): ApiObject {
  const base: ApiObject = { objectType: actionClass[a.type], type: String(actionNumber[a.type]) };
  switch (a.type) {
    case 'block': return base;
    case 'preview': return { ...base, limit: a.limit };
    case 'limitFlavors': return { ...base, flavorParamsIds: a.flavorParamsIds.join(','), isBlockedList: a.isBlockedList };
    case 'limitDeliveryProfiles': return { ...base, deliveryProfileIds: a.deliveryProfileIds.join(','), isBlockedList: a.isBlockedList };
    case 'requestHostRegex': return { ...base, pattern: a.pattern, replacement: a.replacement, ...(a.checkAliveTimeoutMs !== undefined ? { checkAliveTimeoutMs: a.checkAliveTimeoutMs } : {}) };
    case 'drmPolicy': return { ...base, policyId: a.policyId };
  }
}

/** The catalog's rules → KalturaRule objects. */
export function rulesToApi(rules: readonly AccessRule[]): ApiObject[] {
  return rules.map((r) => ({
    objectType: 'KalturaRule',
    description: r.description,
    message: r.message,
    code: r.code,
    actions: r.actions.map(actionObject),
    conditions: (r.conditions ?? []).map(conditionObject),
    contexts: (r.contexts ?? []).map((c) => ({ objectType: 'KalturaAccessControlContextTypeHolder', type: String(contextNumber(c)) })),
    stopProcessing: !!r.stopProcessing,
    forceAdminValidation: !!r.forceAdminValidation,
  }));
}

/** The schema of the rule classes. */
export const RULE_SCHEMA: { classes: SchemaClass[]; enums: SchemaEnum[] } = {
  classes: [
    { name: 'KalturaRule', base: 'KalturaObjectBase', props: 'description:string,message:string,code:string,actions:array:KalturaRuleAction,conditions:array:KalturaCondition,contexts:array:KalturaAccessControlContextTypeHolder,stopProcessing:bool,forceAdminValidation:bool' },
    { name: 'KalturaAccessControlContextTypeHolder', base: 'KalturaObjectBase', props: 'type:KalturaContextType' },
    { name: 'KalturaStringValue', base: 'KalturaObjectBase', props: 'value:string' },
    { name: 'KalturaIntegerValue', base: 'KalturaObjectBase', props: 'value:int' },
    { name: 'KalturaKeyValue', base: 'KalturaObjectBase', props: 'key:string,value:string' },
    { name: 'KalturaTimeContextField', base: 'KalturaObjectBase', props: 'offset:int' },
    { name: 'KalturaCondition', base: 'KalturaObjectBase', props: 'type:KalturaConditionType,description:string,not:bool' },
    { name: 'KalturaAuthenticatedCondition', base: 'KalturaCondition', props: 'privileges:array:KalturaStringValue' },
    { name: 'KalturaMatchCondition', base: 'KalturaCondition', props: 'values:array:KalturaStringValue' },
    { name: 'KalturaCountryCondition', base: 'KalturaMatchCondition', props: '' },
    { name: 'KalturaIpAddressCondition', base: 'KalturaMatchCondition', props: 'acceptInternalIps:bool,httpHeader:string' },
    { name: 'KalturaSiteCondition', base: 'KalturaMatchCondition', props: '' },
    { name: 'KalturaUserAgentCondition', base: 'KalturaMatchCondition', props: '' },
    { name: 'KalturaHttpHeaderCondition', base: 'KalturaMatchCondition', props: 'headerName:string' },
    { name: 'KalturaFieldCompareCondition', base: 'KalturaCondition', props: 'field:KalturaTimeContextField,value:KalturaIntegerValue,comparison:KalturaSearchConditionComparison' },
    { name: 'KalturaAssetPropertiesCompareCondition', base: 'KalturaCondition', props: 'properties:array:KalturaKeyValue' },
    { name: 'KalturaOrCondition', base: 'KalturaCondition', props: 'conditions:array:KalturaCondition' },
    { name: 'KalturaHashCondition', base: 'KalturaCondition', props: 'hashName:string,hashSecret:string' },
    { name: 'KalturaEntryScheduledCondition', base: 'KalturaCondition', props: '' },
    { name: 'KalturaSessionTypeCondition', base: 'KalturaCondition', props: 'sessionType:KalturaSessionType' },
    { name: 'KalturaAccessControlLimitDeliveryProfilesAction', base: 'KalturaRuleAction', props: 'deliveryProfileIds:string,isBlockedList:bool' },
    { name: 'KalturaAccessControlModifyRequestHostRegexAction', base: 'KalturaRuleAction', props: 'pattern:string,replacement:string,checkAliveTimeoutMs:int' },
    { name: 'KalturaAccessControlDrmPolicyAction', base: 'KalturaRuleAction', props: 'policyId:int' },
  ],
  enums: [
    { name: 'KalturaContextType', enumType: 'string', values: { PLAY: '1', DOWNLOAD: '2', THUMBNAIL: '3', METADATA: '4', EXPORT: '5', SERVE: '6' } },
    { name: 'KalturaConditionType', enumType: 'string', values: { AUTHENTICATED: '1', COUNTRY: '2', IP_ADDRESS: '3', SITE: '4', USER_AGENT: '5', FIELD_COMPARE: '7', ASSET_PROPERTIES_COMPARE: '8', OR_OPERATOR: '11', HASH: '12', HTTP_HEADER: '18', ENTRY_SCHEDULED: '19', SESSION_TYPE: '22' } },
    { name: 'KalturaSearchConditionComparison', enumType: 'string', values: { EQUAL: '1', GREATER_THAN: '2', GREATER_THAN_OR_EQUAL: '3', LESS_THAN: '4', LESS_THAN_OR_EQUAL: '5', NOT_EQUAL: '6' } },
  ],
};
