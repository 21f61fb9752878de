/**
 * The accessibility check the e2e tests share (patterns, patterns-keyboard, graph-live-nodes, sandbox): axe-core
 * over the page as it is, keeping what a reader is stopped by (serious and critical). a11y.test.ts keeps its own,
 * which also says why each node fails.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/** The serious and critical violations axe-core finds, in words a failure can show. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // The pointer rests away from every control: a hover colour is not what a reader sees.
  await page.mouse.move(1, 1);
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
}
