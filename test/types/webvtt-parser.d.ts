// webvtt-parser ships no types: its parser (parser.js) as the tests call it.
declare module 'webvtt-parser' {
  export interface VttParseError {
    message: string;
    /** 1-based line of the input. */
    line: number;
    col: number;
  }

  /** A node of a cue's text: a span (object: b, i, v, c, ...), text, or an inline timestamp (seconds). */
  export type VttNode =
    | { type: 'object'; name: string; classes: string[]; annotation?: string; children: VttNode[] }
    | { type: 'text'; value: string }
    | { type: 'timestamp'; value: number };

  export interface VttCue {
    id: string;
    /** Seconds. */
    startTime: number;
    endTime: number;
    pauseOnExit: boolean;
    direction: string;
    snapToLines: boolean;
    linePosition: number | 'auto';
    lineAlign: string;
    textPosition: number | 'auto';
    positionAlign: string;
    size: number;
    alignment: string;
    region: string | null;
    text: string;
    tree: { children: VttNode[] };
  }

  export interface VttParseResult {
    cues: VttCue[];
    errors: VttParseError[];
    /** Each STYLE block's text. */
    styles: string[];
    /** Milliseconds the parse took. */
    time: number;
  }

  export class WebVTTParser {
    /** `entities`: named character references (html-entities.json) beyond the few it knows. */
    constructor(entities?: Record<string, string>);
    parse(input: string, mode?: 'subtitles' | 'chapters' | 'metadata'): VttParseResult;
  }

  const webvtt: { WebVTTParser: typeof WebVTTParser };
  export default webvtt;
}
