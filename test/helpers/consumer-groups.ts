import { AssignerProtocol, type Admin, type Kafka } from 'kafkajs';

/**
 * What Kafka itself says about consumer groups, for tests that start, kill and
 * scale processors: who owns which partitions, and how far each group has got.
 * One admin connection for the caller's lifetime (close() it).
 */
export interface GroupMember {
  memberId: string;
  /** topic → partitions this member owns */
  assignment: Record<string, number[]>;
}

export interface ConsumerGroups {
  describe(groupId: string): Promise<{ state: string; members: GroupMember[] }>;
  /** Records the group has not processed yet on these topics (0: caught up). */
  behind(groupId: string, topics: readonly string[]): Promise<number>;
  /** The group's committed offset per partition of a topic (-1: none yet). */
  committed(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** Sum of the topics' high watermarks: unchanged between two readings = nothing new was produced. */
  ends(topics: readonly string[]): Promise<number>;
  partitions(topic: string): Promise<number>;
  close(): Promise<void>;
}

export async function consumerGroups(kafka: Kafka): Promise<ConsumerGroups> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  return {
    async describe(groupId) {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0]!;
      return {
        state: g.state,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          assignment: m.memberAssignment.length ? (AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}) : {},
        })),
      };
    },
    async behind(groupId, topics) {
      let lag = 0;
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
        const high = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
        for (const p of partitions) {
          const end = high.get(p.partition) ?? 0n;
          if (end === 0n) continue;
          // A processor keeping open windows (rollup) commits the first offset they still need, behind
          // what it has processed; the last offset processed travels in the commit's metadata ({w, p}).
          const processed = checkpointOf(p.metadata);
          const position = [BigInt(p.offset), processed === undefined ? -1n : processed + 1n].reduce((a, b) => (b > a ? b : a));
          if (end > position) lag += Number(end - position);
        }
      }
      return lag;
    },
    async committed(groupId, topic) {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map((t?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    },
    async ends(topics) {
      let sum = 0;
      for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) sum += Number(p.high);
      return sum;
    },
    async partitions(topic) {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0]!.partitions.length;
    },
    close: () => admin.disconnect(),
  };
}

function checkpointOf(metadata: string | null): bigint | undefined {
  if (!metadata) return undefined;
  try {
    const p = (JSON.parse(metadata) as { p?: unknown }).p;
    return typeof p === 'string' ? BigInt(p) : undefined;
  } catch {
    return undefined;
  }
}
