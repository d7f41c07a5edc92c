// npm kaltura-client ships no type declarations; src/import/source.ts checks every answer itself.
declare module 'kaltura-client';
