import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StateArena } from '../../../runtime/engine/state-arena.js';
import { WorkloadEngine } from '../../../runtime/engine/workload-engine.js';

describe('StateArena', () => {
  it('carves every array out of one buffer, each aligned to its element size', () => {
    // GIVEN a construction that asks for mixed types
    const build = (arena: StateArena) => ({
      bytes: arena.uint8(3),
      doubles: arena.float64(2).fill(Number.NaN),
      floats: arena.float32(5),
      ints: arena.int32(1),
    });

    // WHEN it is built in an arena
    const parts = StateArena.build(build);

    // THEN the arrays have the asked lengths, share one buffer, are aligned and do not overlap
    assert.deepEqual(
      [parts.bytes.length, parts.doubles.length, parts.floats.length, parts.ints.length],
      [3, 2, 5, 1],
    );
    const buffer = parts.bytes.buffer;
    for (const a of [parts.doubles, parts.floats, parts.ints]) assert.equal(a.buffer, buffer);
    assert.equal(parts.doubles.byteOffset % 8, 0);
    assert.equal(parts.floats.byteOffset % 4, 0);
    assert.equal(parts.doubles.byteOffset, 8);
    assert.equal(parts.floats.byteOffset, 24);
    assert.equal(parts.ints.byteOffset, 44);
    assert.equal(buffer.byteLength, 48);
    assert.ok(parts.doubles.every(Number.isNaN));
    // (standalone: separate buffers, as before)
    const alone = build(StateArena.standalone);
    assert.notEqual(alone.bytes.buffer, alone.doubles.buffer);
  });

  it('refuses a construction that asks for different arrays the second time', () => {
    let calls = 0;
    assert.throws(
      () => StateArena.build((arena) => arena.float64(++calls)),
      /second construction asks for more than the 8 bytes measured/,
    );
    calls = 3;
    assert.throws(
      () => StateArena.build((arena) => arena.float64(--calls)),
      /second construction took 8 bytes, not 16/,
    );
  });

  it('gives an engine one buffer for all its state, with the decisions of separately allocated parts', () => {
    // GIVEN an engine (its parts in one arena) and the same points
    const engine = new WorkloadEngine({ intervalSeconds: 60, capacityPerReplica: 40, leadSeconds: 120 });
    const views = new Set<ArrayBufferLike>();
    const collect = (value: unknown, depth: number): void => {
      if (ArrayBuffer.isView(value)) views.add(value.buffer);
      else if (value && typeof value === 'object' && depth < 6)
        for (const v of Object.values(value)) collect(v, depth + 1);
    };
    collect(engine, 0);

    // THEN its typed arrays live in one buffer
    assert.equal(views.size, 1);
    assert.ok([...views][0]!.byteLength >= engine.bytes - 1024);
  });
});
