// Types of readme-help.mjs, for the test that imports it (tests/e2e/cli-bin.test.ts).
/** The READMEs that quote help texts (absolute paths). */
export declare const README_FILES: string[];
/** The help text of `distillery <command> --help` (or the program's), as the bin prints it. */
export declare function helpText(command?: string): Promise<string>;
/** The README text with every marked block replaced by the current help. */
export declare function refreshed(text: string): Promise<string>;
