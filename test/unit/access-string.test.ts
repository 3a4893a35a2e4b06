import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DRILL_ACCESS_STRING,
  PROBE_ACCESS_STRING,
  accessString,
} from '../../infra/access-string.js';

describe('access strings', () => {
  it('enable the user for the canary prefix only, every command denied but those listed', () => {
    expect(accessString(['ping', 'cluster|info'])).toBe(
      'on ~slotwatch:* -@all +ping +cluster|info',
    );
  });

  it("grant the probe no command that deletes, flushes or reconfigures, nor another key's pattern", () => {
    for (const rules of [PROBE_ACCESS_STRING, DRILL_ACCESS_STRING]) {
      const words = rules.split(' ');
      expect(words.slice(0, 3)).toEqual(['on', '~slotwatch:*', '-@all']);
      expect(words.filter((word) => word.startsWith('~') || word.startsWith('%'))).toEqual([
        '~slotwatch:*',
      ]);
      expect(words.filter((word) => word.startsWith('+@') || word === '+*')).toEqual([]);
      for (const forbidden of ['+flushall', '+flushdb', '+config', '+keys', '+scan', '+acl'])
        expect(words).not.toContain(forbidden);
    }
    expect(PROBE_ACCESS_STRING.split(' ')).not.toContain('+del');
    expect(new Set(PROBE_ACCESS_STRING.split(' ')).size).toBe(
      PROBE_ACCESS_STRING.split(' ').length,
    );
  });

  it('are the ones the reference shows', () => {
    const readme = readFileSync(new URL('../../docs/reference.md', import.meta.url), 'utf8');

    expect(readme).toContain(`probe: ${PROBE_ACCESS_STRING}\n`);
    expect(readme).toContain(`drill: ${DRILL_ACCESS_STRING}\n`);
  });
});
