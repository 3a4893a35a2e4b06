/**
 * cdk-nag 3 runs as a CDK policy-validation plugin: `app.synth()` throws "Validation failed" when
 * it finds errors, and writes `validation-report.json` into the assembly directory. These helpers
 * turn that report into one line per unacknowledged finding (errors and warnings alike, so a
 * test that expects none is stricter than synth itself).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';

interface ValidationReport {
  readonly pluginReports: readonly {
    readonly pluginName: string;
    readonly violations: readonly {
      readonly ruleName: string;
      readonly description: string;
      readonly severity?: string;
      readonly violatingConstructs: readonly { readonly constructPath: string }[];
    }[];
  }[];
}

/** `<rule> at <construct path>: <description>` for every finding in an assembly directory. */
export function nagFindings(assemblyDirectory: string): string[] {
  const file = join(assemblyDirectory, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as ValidationReport;
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((violation) =>
      violation.violatingConstructs.map(
        (construct) =>
          `${violation.ruleName} at ${construct.constructPath}: ${violation.description}`,
      ),
    ),
  );
}

/** Synthesizes; when validation fails, returns the findings instead of throwing. */
export function synthesizeWithFindings(app: App): { assembly?: CloudAssembly; findings: string[] } {
  try {
    const assembly = app.synth();
    return { assembly, findings: nagFindings(assembly.directory) };
  } catch (error) {
    // The message differs between runners (under Vitest it is the whole report); the report
    // file is what says that validation failed.
    const findings = nagFindings(app.outdir);
    if (findings.length === 0) throw error;
    return { findings };
  }
}

/** Adds the AwsSolutions pack to `app`, synthesizes it, and returns the unacknowledged findings. */
export function checkWithNag(app: App): string[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return synthesizeWithFindings(app).findings;
}
