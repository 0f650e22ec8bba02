/**
 * `pulumi up` entry point (Pulumi.yaml `main`, compiled to build/stacks/pulumi-program.js): the AKS
 * clusters of the environment selected by the stack. Run `npm run build` first.
 */
import { runAzureProgram } from './azure-program.js';

/** Stack outputs, by cluster name. */
export const clusters = runAzureProgram();
