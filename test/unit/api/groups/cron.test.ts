import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CronParseError, cronError, isValidTimeZone, nextRun, parseCron, runsBetween } from '../../../../src/api/cron.js';

const at = (s: string) => new Date(s);
const next = (spec: string, after: string, tz?: string) => nextRun(spec, at(after), tz)?.toISOString();

test('parses the five standard fields, names, ranges, steps and lists', () => {
  const s = parseCron('0,30 9-17/2 * JAN-mar mon-FRI');
  assert.deepEqual([...s.minute.values], [0, 30]);
  assert.deepEqual([...s.hour.values], [9, 11, 13, 15, 17]);
  assert.deepEqual([...s.month.values], [1, 2, 3]);
  assert.deepEqual([...s.dow.values], [1, 2, 3, 4, 5]);
  assert.equal(s.dom.star, true);
  assert.deepEqual([...parseCron('5/20 * * * *').minute.values], [5, 25, 45]);
});

test('robfig/cron error messages', () => {
  assert.equal(cronError('* * * *'), 'expected exactly 5 fields, found 4: [* * * *]');
  assert.equal(cronError('* * * * * *'), 'expected exactly 5 fields, found 6: [* * * * * *]');
  assert.equal(cronError(''), 'empty spec string');
  assert.equal(cronError('60 * * * *'), 'end of range (60) above maximum (59): 60');
  assert.equal(cronError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
  assert.equal(cronError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
  assert.equal(cronError('*/0 * * * *'), 'step of range should be a positive number: */0');
  assert.equal(cronError('a * * * *'), 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax');
  assert.equal(cronError('1-2-3 * * * *'), 'too many hyphens: 1-2-3');
  assert.equal(cronError('@fortnightly'), 'unrecognized descriptor: @fortnightly');
  assert.equal(cronError('*/5 * * * *'), undefined);
  assert.throws(() => parseCron('x'), CronParseError);
});

test('next run in UTC: every minute, hourly, daily, weekly, monthly, yearly', () => {
  assert.equal(next('* * * * *', '2024-05-01T12:00:30Z'), '2024-05-01T12:01:00.000Z');
  assert.equal(next('*/15 * * * *', '2024-05-01T12:15:00Z'), '2024-05-01T12:30:00.000Z');
  assert.equal(next('@hourly', '2024-05-01T12:59:59Z'), '2024-05-01T13:00:00.000Z');
  assert.equal(next('@daily', '2024-12-31T23:00:00Z'), '2025-01-01T00:00:00.000Z');
  assert.equal(next('@weekly', '2024-05-01T00:00:00Z'), '2024-05-05T00:00:00.000Z'); // Wednesday -> Sunday
  assert.equal(next('@monthly', '2024-01-31T10:00:00Z'), '2024-02-01T00:00:00.000Z');
  assert.equal(next('@yearly', '2024-05-01T00:00:00Z'), '2025-01-01T00:00:00.000Z');
  assert.equal(next('0 0 29 2 *', '2024-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  assert.equal(nextRun('0 0 30 2 *', at('2024-01-01T00:00:00Z')), null);
});

test('day-of-month and day-of-week: either matches when both are restricted, both when one is *', () => {
  // 2024-05-01 is a Wednesday; the 13th is a Monday.
  assert.equal(next('0 0 13 * 5', '2024-05-01T00:00:00Z'), '2024-05-03T00:00:00.000Z'); // Friday first
  assert.equal(next('0 0 13 * *', '2024-05-01T00:00:00Z'), '2024-05-13T00:00:00.000Z');
  assert.equal(next('0 0 * * 1', '2024-05-01T00:00:00Z'), '2024-05-06T00:00:00.000Z');
});

test('next run in a time zone, across daylight saving changes', () => {
  assert.ok(isValidTimeZone('America/New_York'));
  assert.ok(!isValidTimeZone('Nowhere/Special'));
  // 09:00 in Tokyo (UTC+9) is 00:00 UTC.
  assert.equal(next('0 9 * * *', '2024-05-01T00:00:00Z', 'Asia/Tokyo'), '2024-05-02T00:00:00.000Z');
  // 02:00 New York is 07:00 UTC in winter (EST) and 06:00 UTC in summer (EDT).
  assert.equal(next('0 2 * * *', '2024-01-10T00:00:00Z', 'America/New_York'), '2024-01-10T07:00:00.000Z');
  assert.equal(next('0 3 * * *', '2024-03-10T00:00:00Z', 'America/New_York'), '2024-03-10T07:00:00.000Z'); // first EDT day
  // 02:30 does not exist on 2024-03-10 in New York: that day is skipped, as robfig/cron does.
  assert.equal(next('30 2 * * *', '2024-03-10T05:00:00Z', 'America/New_York'), '2024-03-11T06:30:00.000Z');
  // 01:30 happens twice on 2024-11-03: the schedule fires once that day.
  const fallBack = runsBetween('30 1 * * *', at('2024-11-03T00:00:00Z'), at('2024-11-04T00:00:00Z'), 'America/New_York');
  assert.equal(fallBack.length, 1);
});

test('runsBetween lists missed schedules oldest first (the CronJob controller uses it)', () => {
  const runs = runsBetween('*/10 * * * *', at('2024-05-01T12:00:00Z'), at('2024-05-01T12:35:00Z')).map((d) => d.toISOString());
  assert.deepEqual(runs, ['2024-05-01T12:10:00.000Z', '2024-05-01T12:20:00.000Z', '2024-05-01T12:30:00.000Z']);
  assert.equal(next('@every 1h30m', '2024-05-01T12:00:00.500Z'), '2024-05-01T13:30:00.000Z');
});
