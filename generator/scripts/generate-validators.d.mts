// Types of generate-validators.mjs, for schemas.test.ts.
export declare const OUTPUT: string;
export declare const SCHEMA_FILES: Readonly<Record<string, string>>;
export declare const AJV_OPTIONS: { allErrors: true; strict: true; allowUnionTypes: true };
export declare function validatorsSource(): string;
