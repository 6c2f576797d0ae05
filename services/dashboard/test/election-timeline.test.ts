import { describe, expect, it } from 'vitest';
import { ElectionTimeline } from '../src/election-timeline.js';

const follower = (id: number, term: number) => ({ id, role: 'follower', term });
const leader = (id: number, term: number) => ({ id, role: 'leader', term });

describe('the election timeline', () => {
  it('records the leader going away, the gap, and the new leader with its term', () => {
    const timeline = new ElectionTimeline();
    timeline.observe(1_000, [leader(1, 2), follower(2, 2), follower(3, 2)]);
    timeline.observe(1_250, [leader(1, 2), follower(2, 2), follower(3, 2)]);
    // Replica 1 is killed: it stops answering.
    timeline.observe(1_500, [follower(2, 2), follower(3, 2)]);
    timeline.observe(1_750, [{ id: 2, role: 'candidate', term: 3 }, follower(3, 3)]);
    timeline.observe(2_500, [leader(2, 3), follower(3, 3)]);
    timeline.observe(2_750, [leader(2, 3), follower(3, 3), follower(1, 3)]);
    expect(timeline.events).toEqual([
      { kind: 'leader', atMs: 1_000, term: 2, leaderId: 1 },
      { kind: 'no-leader', atMs: 1_500, term: 2, previousLeaderId: 1 },
      { kind: 'leader', atMs: 2_500, term: 3, leaderId: 2, previousLeaderId: 1, gapMs: 1_000 },
    ]);
  });

  it('takes the leader of the highest term when a partitioned old leader still thinks it leads', () => {
    const timeline = new ElectionTimeline();
    timeline.observe(0, [leader(1, 4), follower(2, 4), follower(3, 4)]);
    timeline.observe(500, [leader(1, 4), leader(3, 5), follower(2, 5)]);
    timeline.observe(750, [leader(1, 4), leader(3, 5), follower(2, 5)]);
    expect(timeline.events).toEqual([
      { kind: 'leader', atMs: 0, term: 4, leaderId: 1 },
      { kind: 'leader', atMs: 500, term: 5, leaderId: 3, previousLeaderId: 1 },
    ]);
  });

  it('keeps the last events only', () => {
    const timeline = new ElectionTimeline();
    for (let term = 1; term <= 100; term += 1)
      timeline.observe(term, [leader(1 + (term % 3), term)]);
    expect(timeline.events.length).toBeLessThan(100);
    expect(timeline.events.at(-1)).toMatchObject({ term: 100 });
  });
});
