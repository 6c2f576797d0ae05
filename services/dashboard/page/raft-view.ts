// The Raft panel: each replica's role, term, commit and applied index, and the leader changes
// the dashboard saw (the moment the leader went away, the gap, the new leader and its term).
import type { ElectionEvent, RaftView } from '../src/dashboard-snapshot.js';
import { h } from './dom.js';
import { clock } from './format.js';

export function raftView(raft: RaftView): Node {
  const rows = raft.replicas.map((replica) => {
    const isLeader = replica.role === 'leader' && replica.id === raft.leaderId;
    return h(
      'tr',
      { 'data-replica': replica.name, ...(isLeader && { class: 'leader' }) },
      h('td', {}, replica.name),
      replica.status.up
        ? h(
            'td',
            { 'data-role': replica.role ?? '' },
            isLeader ? '★ leader' : (replica.role ?? '?'),
          )
        : h(
            'td',
            { class: 'down', 'data-role': 'down' },
            '✖ down',
            h('span', { class: 'reason' }, replica.status.reason ?? 'no answer'),
          ),
      h('td', {}, replica.term ?? '–'),
      h('td', {}, replica.commitIndex ?? '–'),
      h('td', {}, replica.appliedIndex ?? '–'),
    );
  });
  const leader = raft.replicas.find((replica) => replica.id === raft.leaderId);
  return h(
    'div',
    {},
    h(
      'p',
      { id: 'raft-summary' },
      leader
        ? `Leader: ${leader.name}, term ${leader.term ?? '?'}.`
        : 'No leader: the group cannot commit writes until one is elected.',
      raft.polledAtMs !== undefined ? ` Asked at ${clock(raft.polledAtMs)}.` : '',
    ),
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { 'aria-label': 'Raft replicas' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Replica', 'Role', 'Term', 'Commit', 'Applied'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h('tbody', {}, ...rows),
      ),
    ),
    h('h3', {}, 'Elections and leader changes'),
    raft.timeline.length === 0
      ? h('p', {}, 'None seen yet.')
      : h(
          'ol',
          { class: 'timeline', reversed: '', 'aria-label': 'Election timeline, newest first' },
          ...[...raft.timeline].reverse().map((event) => h('li', {}, eventLine(event))),
        ),
  );
}

function eventLine(event: ElectionEvent): string {
  const at = clock(event.atMs);
  if (event.kind === 'no-leader') {
    return `${at} ✖ leader cat-feeder-${event.previousLeaderId ?? '?'} (term ${event.term}) gone: no leader`;
  }
  const who = `cat-feeder-${event.leaderId ?? '?'}`;
  if (event.previousLeaderId === undefined) return `${at} ★ ${who} leads term ${event.term}`;
  const gap =
    event.gapMs !== undefined ? ` after ${(event.gapMs / 1000).toFixed(1)}s without a leader` : '';
  return `${at} ★ ${who} elected, term ${event.term} (was cat-feeder-${event.previousLeaderId})${gap}`;
}
