import Testing

@testable import AuditCore

/// A model of `total` whose index is `i`, as the store status would list it.
private func model(_ i: Int) -> ArrayPlan.Model {
    ArrayPlan.Model(index: i, role: i == 0 ? "target" : "reference \(i)", key: "key\(i)")
}

private func job(_ i: Int) -> ModelJob { ModelJob(index: i, role: "m\(i)", members: [], seed: 0, key: "key\(i)") }

@Suite struct ArrayPlanTests {
    @Test func oneTaskPerMissingModelByDefault() {
        let plan = ArrayPlan(total: 9, missing: [7, 1, 4].map(model))
        #expect(plan.shardCount == 9)
        #expect(plan.tasks.map(\.index) == [1, 4, 7])
        #expect(plan.tasks.map { $0.models.map(\.index) } == [[1], [4], [7]])
        #expect(plan.arraySpec == "1,4,7")
    }

    @Test func nothingMissingMeansNoTask() {
        let plan = ArrayPlan(total: 5, missing: [])
        #expect(plan.tasks.isEmpty)
        #expect(plan.arraySpec == "")
    }

    /// For every total, task count and missing subset of a small case: each missing model is in
    /// exactly one submitted task, that task's `--shard I/N` selects it, and no submitted task is
    /// without missing work; checked against a direct enumeration of the shards.
    @Test func everyMissingModelInExactlyOneSubmittedShard() {
        for total in 1...7 {
            for subset in 0..<(1 << total) {
                let missing = (0..<total).filter { subset & (1 << $0) != 0 }
                for tasks in [nil, 1, 2, 3, 10] {
                    let plan = ArrayPlan(total: total, missing: missing.map(model), tasks: tasks)
                    let n = plan.shardCount
                    #expect(n == min(tasks ?? total, total))
                    // Direct: shard t has missing work when some missing m has m mod n == t.
                    let expected = (0..<n).filter { t in missing.contains { $0 % n == t } }
                    #expect(plan.tasks.map(\.index) == expected)
                    for m in missing {
                        let holders = plan.tasks.filter { $0.models.contains { $0.index == m } }
                        #expect(holders.count == 1)
                        #expect(holders.first.map { Shard(index: $0.index, count: n).contains(job(m)) } == true)
                    }
                    #expect(ArrayPlan.indices(plan.arraySpec) ?? [] == expected)
                }
            }
        }
    }

    @Test func foldsRunsAndParsesSlurmArraySpecs() {
        let plan = ArrayPlan(total: 12, missing: [0, 1, 2, 3, 7, 9, 10].map(model))
        #expect(plan.arraySpec == "0-3,7,9-10")
        #expect(ArrayPlan.indices("0-3,7,9-10") == [0, 1, 2, 3, 7, 9, 10])
        #expect(ArrayPlan.indices("1-7:3%2") == [1, 4, 7])
        #expect(ArrayPlan.indices("5-2") == nil)
        #expect(ArrayPlan.indices("x") == nil)
    }

    @Test func shardParsingMatchesTheTrainCommand() {
        #expect(Shard("3/5") == Shard(index: 3, count: 5))
        #expect(Shard("5/5") == nil)
        #expect(Shard("0/0") == nil)
        #expect(Shard("-1/4") == nil)
    }
}
