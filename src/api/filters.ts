// The filter and pager classes the list actions read, with every property each one honours. One
// table does two jobs: readArgs (args.ts) refuses any other property with PROPERTY_IS_NOT_DEFINED,
// because a filter field the server skipped would answer with more than was asked for (a
// mistyped or unsupported entryIdEqual would list every flavor of the partner), and
// api_schema.php (schema.ts) describes exactly these classes.
import type { SchemaClass } from './types.js';

export const INPUT_CLASSES: readonly SchemaClass[] = [
  { name: 'KalturaFilterPager', base: 'KalturaObjectBase', props: 'pageSize:int,pageIndex:int' },
  {
    name: 'KalturaBaseEntryFilter', base: 'KalturaObjectBase',
    props: 'idEqual:string,idIn:string,redirectFromEntryId:string,referenceIdEqual:string,nameLike:string,statusEqual:KalturaEntryStatus,statusIn:string,statusNotEqual:KalturaEntryStatus,statusNotIn:string,moderationStatusEqual:KalturaEntryModerationStatus,moderationStatusIn:string,moderationStatusNotEqual:KalturaEntryModerationStatus,moderationStatusNotIn:string,mediaTypeEqual:KalturaMediaType,mediaTypeIn:string,typeEqual:KalturaEntryType,typeIn:string,userIdEqual:string,tagsMultiLikeOr:string,createdAtGreaterThanOrEqual:time,orderBy:string',
  },
  { name: 'KalturaMediaEntryFilter', base: 'KalturaBaseEntryFilter', props: '' },
  { name: 'KalturaAssetFilter', base: 'KalturaObjectBase', props: 'idEqual:string,idIn:string,entryIdEqual:string,entryIdIn:string' },
  { name: 'KalturaThumbAssetFilter', base: 'KalturaAssetFilter', props: '' },
  { name: 'KalturaAccessControlProfileFilter', base: 'KalturaObjectBase', props: 'idEqual:int,idIn:string,systemNameEqual:string,systemNameIn:string' },
  { name: 'KalturaDeliveryProfileFilter', base: 'KalturaObjectBase', props: 'idEqual:int,idIn:string,streamerTypeEqual:string,isDefaultEqual:int' },
  { name: 'KalturaFlavorAssetFilter', base: 'KalturaAssetFilter', props: 'statusEqual:KalturaFlavorAssetStatus,statusIn:string,flavorParamsIdEqual:int,flavorParamsIdIn:string,tagsLike:string' },
  { name: 'KalturaFlavorParamsFilter', base: 'KalturaObjectBase', props: 'idEqual:int,idIn:string,tagsMultiLikeOr:string' },
  { name: 'KalturaConversionProfileFilter', base: 'KalturaObjectBase', props: 'idEqual:int,idIn:string,systemNameEqual:string,systemNameIn:string,typeEqual:string,statusEqual:string,statusIn:string' },
  // nothing is stored, so every one of these is applied exactly by answering an empty list
  { name: 'KalturaMetadataFilter', base: 'KalturaObjectBase', props: 'idEqual:int,idIn:string,objectIdEqual:string,objectIdIn:string,metadataObjectTypeEqual:string,metadataProfileIdEqual:int,metadataProfileIdIn:string,statusEqual:int,statusIn:string' },
];

const byName = new Map(INPUT_CLASSES.map((c) => [c.name, c]));

/** Every property of an input class, its bases' included. An unknown class is a programming error. */
export function propertiesOf(name: string): string[] {
  const c = byName.get(name);
  if (!c) throw new Error(`api_v3: ${name} is not in INPUT_CLASSES`);
  const own = c.props.split(',').filter(Boolean).map((p) => p.slice(0, p.indexOf(':')));
  return c.base && byName.has(c.base) ? [...propertiesOf(c.base), ...own] : own;
}
