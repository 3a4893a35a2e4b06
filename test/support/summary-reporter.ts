/**
 * Prints one closing line per Vitest run, `<project>: N passed, N failed, N skipped`, the plain
 * summary that CI logs are read for (Vitest's own summary has another shape).
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const counts = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    const projects = new Set<string>();
    for (const module of testModules) {
      projects.add(module.project.name || 'tests');
      for (const test of module.children.allTests()) counts[test.result().state]++;
    }
    const name = [...projects].join('+') || 'tests';
    process.stdout.write(
      `\n${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
